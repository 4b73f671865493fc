"""Sessions end everywhere: a revoked or expired token stops working on every socket of every
server process, not only for the next HTTP request.

- Every use of a token (an HTTP request, a socket's connect, each operation on a socket)
  goes through `user_for`, which refuses a token that is unknown, revoked or expired
  (`infra.token_lifetime`), deleting an expired row it meets, and records the use coarsely.
  Uses of one token that arrive while its lookup is running share that lookup
  (`infra.in_flight`): a storm of reconnecting sockets reads each token about once, and a
  lookup that starts after a revocation, or after this process heard of one, sees it.
- `end_tokens` (logOut, logOutEverywhere, expiry) deletes the rows first, then announces
  the hashes through the event hub: each process ends the sockets opened with them at once
  (`infra.open_sockets`), closing them with 4403 (`web.graphql_ws`).
- `running` enforces a lifetime in this process and sweeps its open sockets every
  `Lifetime.sweep_every` (a minute by default): a socket whose token expired, or whose
  revocation this process never heard of (Redis away), is ended then at the latest. It also
  deletes expired rows nobody presents any more, at most once per `touch_every`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Collection

from infra import events, token_lifetime
from infra.in_flight import InFlight
from infra.open_sockets import open_sockets
from infra.token_lifetime import Lifetime
from models import AccessToken, User
from models.rows import first_where

logger = logging.getLogger("milestones.sessions")

# Keeps `token_hash IN (...)` under SQLite's bound-parameter limit.
_CHUNK = 500
# Token hash -> the lookup of it running now, shared by the uses that arrive meanwhile.
_lookups: InFlight[str, User | None] = InFlight()


async def user_for(token_hash: str) -> User | None:
    """The user behind a live token, recording the use; None when unknown, revoked or expired."""
    return await _lookups.get(token_hash, open_sockets.revocations, lambda: _look_up(token_hash))


async def _look_up(token_hash: str) -> User | None:
    row = await first_where(AccessToken, "token_hash", token_hash)
    if row is None:
        return None
    lifetime, at = token_lifetime.current(), token_lifetime.now()
    if not lifetime.is_live(row, at):
        # Expired: gone for good, here and on every socket that still holds it.
        await end_tokens([row.token_hash])
        return None
    await lifetime.touch(row, at)
    return await first_where(User, "id", row.user_id)


async def end_tokens(token_hashes: Collection[str]) -> int:
    """Revoke these tokens everywhere; how many were still stored."""
    pending, deleted = list(token_hashes), 0
    for start in range(0, len(pending), _CHUNK):
        chunk = pending[start : start + _CHUNK]
        deleted += await AccessToken.filter(token_hash__in=chunk).delete()
    # After the delete: a socket that re-checks its token once told finds it gone.
    await events.revoke(pending)
    return deleted


async def end_all_of(user: User) -> int:
    """Revoke every token of `user`, on every device and open socket."""
    hashes = await AccessToken.filter(user_id=user.id).values_list("token_hash", flat=True)
    # A log-in racing with this keeps its new token: it came after, as far as anyone can tell.
    return await end_tokens([str(h) for h in hashes])


async def sweep() -> None:
    """End this process's sockets whose token expired or disappeared."""
    hashes = open_sockets.hashes()
    if not hashes:
        return
    live, expired = await token_lifetime.read_tokens(hashes)
    if expired:
        await end_tokens([row.token_hash for row in expired])
    # Missing: revoked by a process whose announcement never arrived.
    open_sockets.end(h for h in hashes if h not in live)


async def purge(lifetime: Lifetime) -> int:
    """Delete every expired row (those nobody presents again would stay for ever)."""
    return await AccessToken.filter(lifetime.expired_rows(token_lifetime.now())).delete()


async def _sweep_forever(lifetime: Lifetime) -> None:
    purged_at = float("-inf")
    while True:
        await asyncio.sleep(lifetime.sweep_every)
        try:
            await sweep()
            if time.monotonic() - purged_at >= lifetime.touch_every.total_seconds():
                purged_at = time.monotonic()
                await purge(lifetime)
        except Exception:
            # A database hiccup must not end the sweeps: the next one tries again.
            logger.exception("session sweep failed")


@contextlib.asynccontextmanager
async def running(lifetime: Lifetime) -> AsyncIterator[None]:
    """Enforce `lifetime` in this process, and sweep its sockets, for the block's duration."""
    previous = token_lifetime.install(lifetime)
    sweeper = asyncio.create_task(_sweep_forever(lifetime), name="session-sweeper")
    try:
        yield
    finally:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        token_lifetime.install(previous)
