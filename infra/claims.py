"""All-or-nothing claims on several moving windows at once, in Redis or in this process.

The guarantee: `reserve` looks at every window of a claim and counts one event in each, in
one step that no other request (in any process on the same Redis) can come between: if
any window has no room, it counts in none and says how long to wait. So of N parallel
requests against a window of room k, exactly k get through, whatever their timing. A
reservation can be given back (`refund`) once it turns out not to have been what the
windows count (a log-in whose password was right is no failure).

Why not `limits`: its moving windows (limits 5.x, `MovingWindowRateLimiter.hit`) are
atomic for one window of one key (a Lua script in Redis, a per-key lock in memory), but a
log-in must claim five windows of three keys together, one of them a rising gap, and give
the claim back later; limits offers neither. So this module keeps its own lists, in the
same shape as limits' (event timestamps, newest first, trimmed to what a window needs):
one Lua script in Redis (timestamps from Redis's clock, so every process agrees), and the
same rules in Python for this process's memory, where a step that awaits nothing is
atomic. tests/test_unit_rate_limit.py runs the same cases on both.

Two kinds of window: `Window` (at most `amount` events in any `seconds`, as in
infra/rate_limit.py) and `RisingGap` (after `free` events within `seconds`, each further
one must come a doubling time after the one before). Besides the windows: marks, a key
that exists for a while (`mark`, `marked`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as aioredis

from infra.windows import Window

# This process's marks at most; past it the oldest go first (a forgotten mark only means
# the stricter rule applies again), so no sender can grow them without bound.
MAX_LOCAL_MARKS = 100_000
_SWEEP_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class RisingGap:
    """After `free` events within `seconds`, each further event at least `first` seconds
    after the one before, doubling with every event, up to `cap`."""

    name: str
    free: int
    first: int
    cap: int
    seconds: int

    def after(self, events: int) -> int:
        """Seconds the next event must wait after the last of `events`."""
        if events < self.free:
            return 0
        doublings = events - self.free
        if doublings >= self.cap.bit_length():  # already past the cap; no huge powers
            return self.cap
        return min(self.cap, self.first * 2**doublings)

    def kept(self) -> int:
        """Events worth keeping: enough to count until the gap reaches the cap."""
        return self.free + self.cap.bit_length() + 1


Claim = tuple[str, "Window | RisingGap"]  # (key, rule)


@dataclass(frozen=True, slots=True)
class Reservation:
    """What `reserve` did: `wait` > 0, counted nothing (`decided`: the claim that said so);
    else counted one event, `stamp`, in every window, in Redis if `shared`."""

    wait: int
    decided: int = -1
    stamp: str = ""
    shared: bool = False


class ClaimStore(Protocol):
    """Where claims are counted: this process (`LocalClaims`) or Redis (`RedisClaims`)."""

    async def reserve(self, claims: Sequence[Claim]) -> Reservation: ...
    async def refund(self, reservation: Reservation, claims: Sequence[Claim]) -> None: ...
    async def forget(self, claims: Sequence[Claim]) -> None: ...
    async def mark(self, key: str, seconds: int) -> None: ...
    async def marked(self, key: str) -> bool: ...


def _shape(rule: Window | RisingGap) -> tuple[int, int, int, int, int, int]:
    """(amount, kept, seconds, free, first, cap) of a rule; amount 0 marks a rising gap."""
    if isinstance(rule, RisingGap):
        return 0, rule.kept(), rule.seconds, rule.free, rule.first, rule.cap
    return rule.amount, rule.amount, rule.seconds, 0, 0, 0


def _list_key(key: str, rule: Window | RisingGap) -> str:
    return f"claims:{rule.name}:{key}"


class LocalClaims:
    """The claims of this process. No method awaits anything: each runs whole."""

    def __init__(self) -> None:
        self._events: dict[str, list[float]] = {}  # newest first
        self._expires: dict[str, float] = {}
        self._marks: dict[str, float] = {}  # key -> when it lapses; oldest first
        self._swept = time.monotonic()

    async def reserve(self, claims: Sequence[Claim]) -> Reservation:
        now = time.time()
        self._sweep(now)
        wait, decided = 0.0, -1
        for index, (key, rule) in enumerate(claims):
            needed = _needed(self._events.get(_list_key(key, rule), []), _shape(rule), now)
            if needed > wait:
                wait, decided = needed, index
        if wait > 0:
            return Reservation(_whole(wait), decided)
        for key, rule in claims:
            events = self._events.setdefault(_list_key(key, rule), [])
            events.insert(0, now)
            del events[_shape(rule)[1] :]
            self._expires[_list_key(key, rule)] = now + rule.seconds
        return Reservation(0, stamp=repr(now))

    async def refund(self, reservation: Reservation, claims: Sequence[Claim]) -> None:
        stamp = float(reservation.stamp)
        for key, rule in claims:
            events = self._events.get(_list_key(key, rule), [])
            if stamp in events:
                events.remove(stamp)

    async def forget(self, claims: Sequence[Claim]) -> None:
        for key, rule in claims:
            self._events.pop(_list_key(key, rule), None)
            self._expires.pop(_list_key(key, rule), None)

    async def mark(self, key: str, seconds: int) -> None:
        self._marks.pop(key, None)  # to the end: the newest
        self._marks[key] = time.time() + seconds
        while len(self._marks) > MAX_LOCAL_MARKS:
            del self._marks[next(iter(self._marks))]

    async def marked(self, key: str) -> bool:
        return self._marks.get(key, 0.0) > time.time()

    def _sweep(self, now: float) -> None:
        """Drop lists and marks past their time, at most once a minute."""
        if time.monotonic() - self._swept < _SWEEP_SECONDS:
            return
        self._swept = time.monotonic()
        for key in [k for k, expires in self._expires.items() if expires <= now]:
            del self._expires[key]
            self._events.pop(key, None)
        for key in [k for k, lapses in self._marks.items() if lapses <= now]:
            del self._marks[key]


def _needed(events: list[float], shape: tuple[int, ...], now: float) -> float:
    """Seconds until one more event fits (0 or less: now); the Lua script's twin."""
    amount, kept, seconds, free, first, cap = shape
    if amount:
        return events[amount - 1] + seconds - now if len(events) >= amount else 0.0
    count = 0
    for stamp in events[:kept]:
        if stamp <= now - seconds:
            break
        count += 1
    if count < free or not count:
        return 0.0
    gap = RisingGap("", free, first, cap, seconds).after(count)
    return events[0] + gap - now


def _whole(seconds: float) -> int:
    return max(1, int(-(-seconds // 1)))


# KEYS: one list per claim, newest stamp first. ARGV: six numbers per claim, as `_shape`.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local stamp = t[1] .. '.' .. string.format('%06d', tonumber(t[2]))
local wait, decided = 0, 0
for i = 1, #KEYS do
  local a = (i - 1) * 6
  local amount, kept, seconds = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local free, first, cap = tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5]), tonumber(ARGV[a + 6])
  local needed = 0
  if amount > 0 then
    local oldest = redis.call('LINDEX', KEYS[i], amount - 1)
    if oldest then needed = tonumber(oldest) + seconds - now end
  else
    local events = redis.call('LRANGE', KEYS[i], 0, kept - 1)
    local count = 0
    for _, event in ipairs(events) do
      if tonumber(event) <= now - seconds then break end
      count = count + 1
    end
    if count >= free and count > 0 then
      local gap = cap
      if count - free < 30 then gap = math.min(cap, first * 2 ^ (count - free)) end
      needed = tonumber(events[1]) + gap - now
    end
  end
  if needed > wait then wait, decided = needed, i end
end
if wait > 0 then return {math.max(1, math.ceil(wait)), decided - 1, ''} end
for i = 1, #KEYS do
  local a = (i - 1) * 6
  redis.call('LPUSH', KEYS[i], stamp)
  redis.call('LTRIM', KEYS[i], 0, tonumber(ARGV[a + 2]) - 1)
  redis.call('EXPIRE', KEYS[i], tonumber(ARGV[a + 3]))
end
return {0, -1, stamp}
"""


class RedisClaims:
    """The claims of every process on one Redis, under `prefix`."""

    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._reserve = client.register_script(_RESERVE)

    def _key(self, key: str, rule: Window | RisingGap) -> str:
        return f"{self._prefix}:{_list_key(key, rule)}"

    async def reserve(self, claims: Sequence[Claim]) -> Reservation:
        keys = [self._key(key, rule) for key, rule in claims]
        shapes = [number for _, rule in claims for number in _shape(rule)]
        wait, decided, stamp = await self._reserve(keys=keys, args=shapes)
        if int(wait):
            return Reservation(int(wait), int(decided))
        return Reservation(0, stamp=stamp.decode(), shared=True)

    async def refund(self, reservation: Reservation, claims: Sequence[Claim]) -> None:
        async with self._client.pipeline(transaction=False) as pipe:
            for key, rule in claims:
                pipe.lrem(self._key(key, rule), 1, reservation.stamp)
            await pipe.execute()

    async def forget(self, claims: Sequence[Claim]) -> None:
        await self._client.delete(*(self._key(key, rule) for key, rule in claims))

    async def mark(self, key: str, seconds: int) -> None:
        await self._client.set(f"{self._prefix}:mark:{key}", b"1", ex=seconds)

    async def marked(self, key: str) -> bool:
        return bool(await self._client.exists(f"{self._prefix}:mark:{key}"))
