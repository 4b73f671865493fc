"""How long a bearer token lives: an idle limit and an absolute one.

A token is live while it is younger than `absolute` and was last used less than `idle` ago
(a token never used counts as used when it was created). Every reader of tokens asks
`live_tokens` or `Lifetime.is_live`, so an expired token is refused everywhere at once:
HTTP requests, socket operations and chat deliveries alike.

`last_used_at` is written coarsely, by `touch`: only when the stored value is older than
`touch_every` (an hour by default), and then with a conditional UPDATE, so that the read
path of a busy token stays free of writes and concurrent requests, in any process, write
once. The price is that an idle token may expire up to `touch_every` early.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from tortoise.expressions import Q

from models import AccessToken

# Keeps `token_hash IN (...)` under SQLite's bound-parameter limit.
_CHUNK = 500
# The most `last_used_at` may lag behind a token's real last use.
_TOUCH_AT_MOST_EVERY = dt.timedelta(hours=1)
# The slowest the expiry sweep runs (services.sessions): a bound on how long a socket
# whose token expired (or whose revocation a process missed) stays open.
_SWEEP_AT_MOST_EVERY = dt.timedelta(minutes=1)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class Lifetime:
    idle: dt.timedelta
    absolute: dt.timedelta

    @classmethod
    def from_days(cls, idle: float, absolute: float) -> Lifetime:
        return cls(dt.timedelta(days=idle), dt.timedelta(days=absolute))

    @property
    def touch_every(self) -> dt.timedelta:
        # Short lifetimes (tests) need a finer record of use, or a used token would idle out.
        return min(_TOUCH_AT_MOST_EVERY, min(self.idle, self.absolute) / 24)

    @property
    def sweep_every(self) -> float:
        """Seconds between two expiry sweeps of a process's open sockets."""
        return max(0.05, min(_SWEEP_AT_MOST_EVERY, self.touch_every).total_seconds())

    def is_live(self, token: AccessToken, at: dt.datetime) -> bool:
        last_used = token.last_used_at or token.created_at
        return at - token.created_at < self.absolute and at - last_used < self.idle

    def expired_rows(self, at: dt.datetime) -> Q:
        """Rows no longer live at `at`: what the periodic purge deletes."""
        idle_since = at - self.idle
        return (
            Q(created_at__lte=at - self.absolute)
            | Q(last_used_at__lte=idle_since)
            | Q(last_used_at__isnull=True, created_at__lte=idle_since)
        )

    async def touch(self, token: AccessToken, at: dt.datetime) -> None:
        """Record a use of `token`, unless the stored one is recent enough (no write then)."""
        stale_before = at - self.touch_every
        if token.last_used_at is not None and token.last_used_at > stale_before:
            return
        # Conditional: of several requests seeing the same stale value, one writes.
        stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale_before)
        await AccessToken.filter(Q(id=token.id) & stale).update(last_used_at=at)
        token.last_used_at = at


DEFAULT = Lifetime.from_days(30, 90)
_current = DEFAULT


def current() -> Lifetime:
    """The lifetime this process enforces (set at start-up by services.sessions)."""
    return _current


def install(lifetime: Lifetime) -> Lifetime:
    """Enforce `lifetime` from now on; returns the one it replaces."""
    global _current
    previous, _current = _current, lifetime
    return previous


async def read_tokens(
    token_hashes: Iterable[str], *, with_user: bool = False
) -> tuple[dict[str, AccessToken], list[AccessToken]]:
    """The live tokens among `token_hashes` by hash, and the expired ones still stored.

    A hash in neither is unknown or revoked. One query per 500 hashes.
    """
    pending, lifetime, at = list(token_hashes), current(), now()
    live: dict[str, AccessToken] = {}
    expired: list[AccessToken] = []
    for start in range(0, len(pending), _CHUNK):
        query = AccessToken.filter(token_hash__in=pending[start : start + _CHUNK])
        for row in await (query.select_related("user") if with_user else query):
            if lifetime.is_live(row, at):
                live[row.token_hash] = row
            else:
                expired.append(row)
    return live, expired
