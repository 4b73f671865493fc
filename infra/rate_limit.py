"""Moving-window rate limits, counted in Redis for every process or in this process alone.

The guarantee: with a Redis URL every server process counts against the same windows (N
processes allow what one does, and a restart forgets nothing); without one, counts live in
this process's memory. Each window is a moving one: at most `amount` events in any span of
`seconds`, so there is no window edge at which a burst of twice the budget gets through.

If Redis cannot be reached, counting falls back to this process's memory, with one warning
per outage, and goes back to Redis a few seconds later: a request is never refused because
the counter store is down. Refusing instead would turn a Redis outage (or anyone able to
cause one) into an outage of log-in, sign-up and every write, while these limits are a
brake on abuse, not an access rule; in the meantime each process still applies every
budget to the traffic it sees.

Log-in needs more than one window at a time: `reserve` takes one event from several windows
of several keys at once, or none, and `refund` gives it back (infra/claims.py, where the
reason for not using `limits` there is given); `mark` and `marked` keep a key for a while.
They fall back to this process's memory in the same way.

This module is machinery: what a key stands for and how large a window is are the caller's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import redis.asyncio as aioredis
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from infra.claims import Claim, ClaimStore, LocalClaims, RedisClaims, Reservation
from infra.windows import Window

logger = logging.getLogger("milestones.rate_limit")

T = TypeVar("T")
S = TypeVar("S")

# After a failure, Redis is left alone this long: requests meanwhile count locally at once
# instead of each waiting for a connection that is likely to fail too.
RETRY_REDIS_SECONDS = 5.0
# A local Redis answers in well under a millisecond; one that takes longer is treated as down
# rather than holding up the request.
_REDIS_TIMEOUT = 0.5
# Connections per process, and how long a request waits for one before taking Redis for
# down: each call holds one for well under a millisecond, so a burst queues only briefly.
_REDIS_CONNECTIONS = 50
_POOL_WAIT_SECONDS = 2.0
_REDIS_DOWN = (StorageError, RedisError, OSError, TimeoutError)
KEY_PREFIX = "milestones:rate"


def _redis_storage(url: str) -> tuple[RedisStorage, aioredis.ConnectionPool]:
    # Requests beyond the pool's connections wait their turn: redis-py's plain pool (at
    # most 100 since redis-py 8) raises "Too many connections" instead, which read as an
    # outage and let a burst of 200 parallel log-ins count in each process's memory.
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=_REDIS_CONNECTIONS,
        timeout=_POOL_WAIT_SECONDS,
        # RESP2, as the chat hub uses: redis-py 8 with hiredis leaks memory on RESP3.
        protocol=2,
        socket_connect_timeout=_REDIS_TIMEOUT,
        socket_timeout=_REDIS_TIMEOUT,
        # No in-library retries: a failure switches to local counts (see the module's text).
        retry=Retry(NoBackoff(), 0),
    )
    storage = RedisStorage(
        "async+redis://",  # the pool below says where; this only picks the Redis flavour
        implementation="redispy",
        wrap_exceptions=True,
        key_prefix=KEY_PREFIX,
        connection_pool=pool,  # type: ignore[arg-type]  # limits types options as scalars; redis-py takes the pool
    )
    return storage, pool


class RateLimits:
    """Moving windows kept in Redis (`redis_url`) or, without one, in this process."""

    def __init__(self, redis_url: str = "") -> None:
        self.redis_url = redis_url
        self._local_storage = MemoryStorage()
        self._local = MovingWindowRateLimiter(self._local_storage)
        self._shared: MovingWindowRateLimiter | None = None
        self._local_claims: ClaimStore = LocalClaims()
        self._shared_claims: ClaimStore | None = None
        self._pool: aioredis.ConnectionPool | None = None
        if redis_url:
            storage, self._pool = _redis_storage(redis_url)
            self._shared = MovingWindowRateLimiter(storage)
            client = aioredis.Redis(connection_pool=self._pool)
            self._shared_claims = RedisClaims(client, KEY_PREFIX)
        self._redis_retry_at = 0.0
        self.redis_down = False

    async def acquire(self, key: str, windows: Sequence[Window]) -> int:
        """Count one event under `key` in every window if each has room: then 0.

        Otherwise count nothing and return the whole seconds (at least 1) until each has.
        """
        if wait := await self.wait(key, windows):
            return wait
        for window in windows:
            if not await self._run(MovingWindowRateLimiter.hit, window.item(), key):
                # Another request took the last room since `wait` looked.
                return max(1, await self.wait(key, [window]))
        return 0

    async def wait(self, key: str, windows: Sequence[Window]) -> int:
        """Whole seconds until every window of `key` has room (0: now); counts nothing."""
        waits = [0]
        for window in windows:
            stats = await self._run(MovingWindowRateLimiter.get_window_stats, window.item(), key)
            if stats.remaining <= 0:
                waits.append(max(1, math.ceil(stats.reset_time - time.time())))
        return max(waits)

    async def count(self, key: str, window: Window) -> int:
        """How many events `key` has in `window` now."""
        stats = await self._run(MovingWindowRateLimiter.get_window_stats, window.item(), key)
        return window.amount - max(0, stats.remaining)

    async def clear(self, key: str, window: Window) -> None:
        """Forget every event of `key` in `window`."""
        await self._run(MovingWindowRateLimiter.clear, window.item(), key)

    async def reserve(self, claims: Sequence[Claim]) -> Reservation:
        """One event in every window of `claims` if each has room (`wait` 0), else none
        (`wait`: whole seconds, at least 1, until each has)."""
        return await self._claims(lambda store: store.reserve(claims))

    async def refund(self, reservation: Reservation, claims: Sequence[Claim]) -> None:
        """Take back the event `reservation` counted in the windows of `claims`, from the
        store that counted it (a Redis that has gone away meanwhile keeps it)."""
        if reservation.wait:
            return
        if not reservation.shared:
            await self._local_claims.refund(reservation, claims)
        elif self._shared_claims is not None:
            with contextlib.suppress(*_REDIS_DOWN):
                await self._shared_claims.refund(reservation, claims)

    async def forget(self, claims: Sequence[Claim]) -> None:
        """Forget every event in the windows of `claims`."""
        await self._claims(lambda store: store.forget(claims))

    async def mark(self, key: str, seconds: int) -> None:
        """Keep `key` for `seconds`."""
        await self._claims(lambda store: store.mark(key, seconds))

    async def marked(self, key: str) -> bool:
        """Whether `key` was marked and has not lapsed."""
        return await self._claims(lambda store: store.marked(key))

    async def close(self) -> None:
        timer = self._local_storage.timer  # its sweep of expired local counts
        if timer is not None and not timer.done():
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer
        if self._pool is not None:
            await self._pool.aclose()

    async def _run(self, operation: Callable[..., Awaitable[T]], *args: Any) -> T:
        """`operation(limiter, *args)` on Redis when there is one and it answers, else on
        the local counts."""
        return await self._on(self._shared, self._local, lambda limiter: operation(limiter, *args))

    async def _claims(self, operation: Callable[[ClaimStore], Awaitable[T]]) -> T:
        return await self._on(self._shared_claims, self._local_claims, operation)

    async def _on(self, shared: S | None, local: S, operation: Callable[[S], Awaitable[T]]) -> T:
        """`operation(shared)` when there is a shared store and Redis answers, else
        `operation(local)`."""
        if shared is not None and time.monotonic() >= self._redis_retry_at:
            try:
                result = await operation(shared)
            except _REDIS_DOWN as error:
                self._redis_retry_at = time.monotonic() + RETRY_REDIS_SECONDS
                if not self.redis_down:
                    self.redis_down = True
                    logger.warning(
                        "Redis unreachable for rate limits (%s); counting in this process "
                        "until it is back",
                        error,
                    )
            else:
                if self.redis_down:
                    self.redis_down = False
                    logger.warning("Redis reachable again; rate limits are shared again")
                return result
        return await operation(local)
