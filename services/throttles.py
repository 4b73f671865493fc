"""How often anyone may do the things that cost us or others: the budgets and their rules.

The guarantee: a person at a keyboard never meets a budget; a script does, early, and is
told how long to wait (`RateLimited(retry_after)`, a top-level RATE_LIMITED error). Every
call counts, however many arrive in one document or in parallel, and the count is taken
before any work (before a password hash, before a transaction). With REDIS_URL the counts
are shared by every server process and survive restarts (infra/rate_limit.py).

Writes are budgeted per user, sign-ups per client address, each with a burst window and a
longer, steadier one (a leaky bucket's "burst, then a steady rate", from two moving
windows). Log-in is guarded three ways: failures of one account from one address earn
rising waits (never a fixed lock-out, and a success clears them); failures from one
address across accounts are capped (password spraying); failures of one account across
addresses get a generous cap (distributed guessing), too high for one address to reach
and so lock the owner out.

A log-in takes its units from all of these (and from the address's attempts) before the
password hash, in one atomic step (infra/claims.py), as if it were to fail; a right
password gives the failure units back. (Checked first and counted after the hash, 300
parallel guesses at one account were all checked.)

An office behind one address: an account that signed in from an address in the last
KNOWN_DAYS is not held up there by that address's failure windows, nor by its own
account-wide window (and its failures there count in neither), so one person spraying or
mistyping there does not refuse everyone's right password, and a botnet that spends the
account's window elsewhere does not lock its owner out at their usual address. It keeps
its own rising wait there (five free failures, then doubling waits), which one address
could never get past to reach the account-wide window anyway: nobody at that address gets
more guesses at it, and guesses at any other account still meet the address's windows:
spraying costs what it did. A larger address window, the alternative, would sell the sprayer more
guesses. Left: a first log-in from a sprayed address waits (ten minutes at most). The
record is a hash of account and address, in the store of the counts, lapsing on its own.

The operator may resize any window by name (RATE_LIMITS, e.g. `chat_burst=40/10`).
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import ipaddress
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from infra import metrics
from infra.claims import Claim, Reservation, RisingGap
from infra.rate_limit import RateLimits
from infra.windows import Window
from services.errors import RateLimited
from services.throttle_windows import DAY, DEFAULT_WINDOWS, MINUTE
from settings import SettingError, Settings


class Per(enum.Enum):
    USER = "user"
    ADDRESS = "address"


@dataclass(frozen=True, slots=True)
class Budget:
    """One action's allowance: one unit per call, from every named window."""

    name: str
    per: Per
    windows: tuple[str, ...]


SIGN_UP = Budget("sign_up", Per.ADDRESS, ("sign_up_burst", "sign_up_daily"))
CREATE_PROJECT = Budget(
    "create_project", Per.USER, ("create_project_burst", "create_project_daily")
)
SEND_CHAT_MESSAGE = Budget("chat", Per.USER, ("chat_burst", "chat_steady"))
# One budget for every milestone change: each one e-mails the other party (the client of
# the freelancer's changes, the freelancer of the client's word on finished work).
CHANGE_MILESTONES = Budget("milestones", Per.USER, ("milestones_burst", "milestones_daily"))
# Downloads of a user's feeds, counted for the feed's owner (no one is signed in).
READ_CALENDAR_FEED = Budget(
    "calendar_feed", Per.USER, ("calendar_feed_burst", "calendar_feed_daily")
)
# Only misses spend it; while it is spent, the address gets no feed at all.
CALENDAR_FEED_MISSES = Budget("calendar_feed_misses", Per.ADDRESS, ("calendar_feed_misses",))
ROTATE_CALENDAR_FEED = Budget("calendar_rotate", Per.USER, ("calendar_feed_rotations",))


@dataclass(frozen=True, slots=True)
class RisingDelay:
    """After `free` failures in a row, a wait of `first` seconds, doubling with each further
    failure up to `cap`; failures older than `memory` seconds are forgotten. The operator
    may set `free` and `first` as the window `log_in_rising_wait` (`5/1`)."""

    free: int = 5  # enough for a few typos and a caps-lock
    first: int = 1
    cap: int = 15 * MINUTE  # at most four guesses an hour once there
    memory: int = DAY

    def after(self, failures: int) -> int:
        """Seconds to wait after the `failures`-th failure in a row."""
        return self.rule().after(failures)

    def rule(self) -> RisingGap:
        """The failures of one account from one address, as counted (infra/claims.py)."""
        return RisingGap("log_in_failures", self.free, self.first, self.cap, self.memory)


# RATE_LIMITS's name for the rising wait: COUNT free failures, then SECONDS of wait.
RISING_WAIT = "log_in_rising_wait"
# How long an address is known for an account it signed in to (no longer held up by the
# address's failures): a month covers holidays; past it, one log-in renews it.
KNOWN_DAYS = 30


def resized(overrides: Iterable[tuple[str, int, int]]) -> dict[str, Window]:
    """The default windows with the operator's sizes; an unknown name stops the server.
    (`log_in_rising_wait` is no window: `Throttles` reads it.)"""
    windows = dict(DEFAULT_WINDOWS)
    for name, amount, seconds in overrides:
        if name == RISING_WAIT:
            continue
        if name not in windows:
            known = ", ".join(sorted([*windows, RISING_WAIT]))
            raise SettingError(f"RATE_LIMITS names no window {name!r}; known: {known}")
        windows[name] = Window(name, amount, seconds)
    return windows


def address_key(address: str) -> str:
    """The unit one address stands for: an IPv6 client usually holds a whole /64."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return f"address:{address}"
    if parsed.version == 6:
        return f"address:{ipaddress.ip_network(f'{parsed}/64', strict=False)}"
    return f"address:{parsed}"


def account_key(email: str) -> str:
    # Hashed: keys stay short whatever is typed, and the store holds no e-mail addresses.
    return "account:" + hashlib.sha256(email.encode()).hexdigest()[:32]


class Throttles:
    """The budgets of one deployment, counted in `limits`."""

    def __init__(
        self,
        limits: RateLimits,
        overrides: Iterable[tuple[str, int, int]] = (),
        delay: RisingDelay = RisingDelay(),
    ) -> None:
        overrides = tuple(overrides)
        self.limits = limits
        self.windows = resized(overrides)
        for name, free, first in overrides:  # the operator's free failures and first wait
            if name == RISING_WAIT:
                delay = dataclasses.replace(delay, free=free, first=min(first, delay.cap))
        self.delay = delay

    def _windows(self, *names: str) -> list[Window]:
        return [self.windows[name] for name in names]

    async def spend(self, budget: Budget, *, user_id: int | None, address: str) -> None:
        """Take one unit of `budget`, or raise RateLimited. No user: nothing to count
        (the field's permission refuses anonymous callers)."""
        key = _budget_key(budget, user_id, address)
        if key is None:
            return
        if wait := await self.limits.acquire(key, self._windows(*budget.windows)):
            metrics.RATE_LIMITED.labels(budget.name).inc()
            raise RateLimited(wait)

    async def refuse_if_spent(
        self, budget: Budget, *, user_id: int | None = None, address: str = ""
    ) -> None:
        """Raise RateLimited while `budget` has no room; counts nothing. For budgets that
        only failures spend (`spend` after the failure), checked before the work."""
        key = _budget_key(budget, user_id, address)
        if key is not None and (
            wait := await self.limits.wait(key, self._windows(*budget.windows))
        ):
            raise RateLimited(wait)

    async def before_log_in(self, email: str, address: str) -> LogInAttempt:
        """Take this log-in's units before its password is checked, or raise RateLimited.

        One unit from each log-in window, all at once or none: counted as a failure until
        `log_in_succeeded` gives it back, so parallel guesses meet the count of those
        still being checked. The address's failure windows are left out for an account
        that signed in from this address lately (see the module's text)."""
        pair, account, where = _log_in_keys(email, address)
        known = "log_in_known:" + hashlib.sha256(pair.encode()).hexdigest()[:32]
        failures: list[Claim] = [(pair, self.delay.rule())]
        if not await self.limits.marked(known):
            failures.append((account, self.windows["log_in_account_failures"]))
            failures += [(where, self.windows[name]) for name in _ADDRESS_FAILURES]
        attempts: Claim = (where, self.windows["log_in_attempts"])
        reservation = await self.limits.reserve([*failures, attempts])
        if reservation.wait:
            spent = "log_in_attempts" if reservation.decided == len(failures) else "log_in_failures"
            metrics.RATE_LIMITED.labels(spent).inc()
            raise RateLimited(reservation.wait)
        return LogInAttempt(reservation, tuple(failures), known)

    async def log_in_succeeded(self, attempt: LogInAttempt) -> None:
        """The owner is back: this was no failure, their own address starts afresh (the
        caps keep their other counts), and the address knows the account for KNOWN_DAYS."""
        await self.limits.refund(attempt.reservation, attempt.failures)
        await self.limits.forget(attempt.failures[:1])  # the rising wait's failures
        await self.limits.mark(attempt.known, KNOWN_DAYS * DAY)


@dataclass(frozen=True, slots=True)
class LogInAttempt:
    """A log-in whose units were taken (`Throttles.before_log_in`); a failure keeps them."""

    reservation: Reservation
    failures: tuple[Claim, ...]  # the rising wait's first
    known: str  # hashed: this account signed in from this address, kept KNOWN_DAYS


def _log_in_keys(email: str, address: str) -> tuple[str, str, str]:
    """(this account from this address, this account, this address), for log-in counts."""
    account, where = account_key(email), address_key(address)
    return f"log_in:{account}:{where}", f"log_in:{account}", f"log_in:{where}"


def _budget_key(budget: Budget, user_id: int | None, address: str) -> str | None:
    """The key `budget` counts under for this user or address; None: nothing to count."""
    if budget.per is Per.USER:
        return None if user_id is None else f"{budget.name}:user:{user_id}"
    return f"{budget.name}:{address_key(address)}"


_ADDRESS_FAILURES = ("log_in_address_failures_burst", "log_in_address_failures_daily")


_current: Throttles | None = None


def current() -> Throttles:
    """This process's throttles; in-memory defaults until `running` installs others."""
    global _current
    if _current is None:
        _current = Throttles(RateLimits())
    return _current


def from_settings(settings: Settings) -> Throttles:
    """Counted in Redis with REDIS_URL, else in this process; windows sized by RATE_LIMITS."""
    return Throttles(RateLimits(settings.redis_url), settings.rate_limits)


@asynccontextmanager
async def running(throttles: Throttles) -> AsyncIterator[Throttles]:
    """Count against `throttles` for the duration of the block, then close its store."""
    global _current
    previous, _current = _current, throttles
    try:
        yield throttles
    finally:
        _current = previous
        await throttles.limits.close()
