"""Chat event fan-out: the one place events are published, after their transaction commits.

The wire carries only (project id, chat message id); each process's `infra.feeds` load
the rows themselves. Which hub moves notifications between processes is chosen at start-up
by `server.py`: `InProcessHub` (default) or `infra.redis_hub.RedisHub` (REDIS_URL). A
process that runs no hub (the `worker` command) has no subscribers to wake.

The same hub carries revocations: the hashes of tokens that stopped working, so that every
process ends the sockets opened with them (`infra.open_sockets`). Never the tokens.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from typing import Protocol

from infra.feeds import LocalFeeds
from infra.open_sockets import open_sockets

logger = logging.getLogger("milestones.events")


class EventHub(Protocol):
    """Moves (project id, chat message id) notifications to every process's feeds."""

    feeds: LocalFeeds

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, project_id: int, message_id: int) -> None:
        """Wake this process's feeds before returning, then tell the other processes; never
        wait on another service to do so (the caller's change has committed already)."""

    async def revoke(self, token_hashes: Collection[str]) -> None:
        """End the sockets opened with these tokens, in this process and every other."""


class InProcessHub:
    """Fan-out inside one process: publishing wakes this process's feeds directly."""

    def __init__(self, feeds: LocalFeeds) -> None:
        self.feeds = feeds

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        await self.feeds.close()

    async def publish(self, project_id: int, message_id: int) -> None:
        self.feeds.notify(project_id, message_id)

    async def revoke(self, token_hashes: Collection[str]) -> None:
        open_sockets.end(token_hashes)


_hub: EventHub | None = None
# Revocations being announced, kept until done (the event loop holds tasks only weakly).
_announcing: set[asyncio.Task[None]] = set()


def feeds() -> LocalFeeds:
    """The running hub's local feeds: what live subscriptions join."""
    if _hub is None:
        raise RuntimeError("no event hub is running")
    return _hub.feeds


@asynccontextmanager
async def running_hub(new_hub: EventHub) -> AsyncIterator[EventHub]:
    """Install `new_hub` as this process's hub for the duration of the block."""
    global _hub
    previous = _hub
    await new_hub.start()
    _hub = new_hub
    try:
        yield new_hub
    finally:
        _hub = previous
        await new_hub.close()


async def publish(project_id: int, message_id: int) -> None:
    """Announce a committed chat message. Never raises: the change is already committed."""
    if _hub is None:
        return  # no hub, no subscriber in this process
    try:
        await _hub.publish(project_id, message_id)
    except Exception:
        logger.exception("could not publish chat event %s/%s", project_id, message_id)


async def revoke(token_hashes: Collection[str]) -> None:
    """Announce tokens that stopped working (their rows are already gone). Never raises:
    a process that misses it still refuses the token at its next use, and its expiry sweep
    closes the sockets."""
    if not token_hashes:
        return
    if _hub is None:
        open_sockets.end(token_hashes)  # no hub: this process's sockets only
        return
    # A task of its own: logOut sent over a socket of the token itself ends that socket, and
    # so cancels its own operation, before the other processes have been told.
    announcing = asyncio.create_task(_hub.revoke(token_hashes))
    _announcing.add(announcing)
    announcing.add_done_callback(_announcing.discard)
    try:
        await asyncio.shield(announcing)
    except Exception:
        logger.exception("could not announce %d revoked tokens", len(token_hashes))
