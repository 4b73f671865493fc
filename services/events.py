"""Chat event fan-out: the one place events are published, after their transaction commits.

The wire carries only (project id, chat message id); each process's `services.feeds` load
the rows themselves. Which hub moves notifications between processes is chosen at start-up:
`InProcessHub` (default) or `services.redis_hub.RedisHub` (REDIS_URL).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

from services.feeds import Delivery, Ended, LocalFeeds, Subscriber

__all__ = ["Delivery", "Ended", "LocalFeeds", "Subscriber", "feeds", "hub", "publish"]

logger = logging.getLogger("milestones.events")


class EventHub(Protocol):
    """Moves (project id, chat message id) notifications to every process's feeds."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, project_id: int, message_id: int) -> None: ...


class InProcessHub:
    """Fan-out inside one process: publishing wakes this process's feeds directly."""

    def __init__(self, feeds: LocalFeeds | None = None) -> None:
        self.feeds = feeds or LocalFeeds()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        await self.feeds.close()

    async def publish(self, project_id: int, message_id: int) -> None:
        self.feeds.notify(project_id, message_id)


class _HubWithFeeds(EventHub, Protocol):
    feeds: LocalFeeds


_hub: _HubWithFeeds = InProcessHub()


def hub() -> _HubWithFeeds:
    return _hub


def feeds() -> LocalFeeds:
    """The running hub's local feeds: what subscription resolvers subscribe to."""
    return _hub.feeds


# Allocations between young collections (CPython's default is 700).
GC_GEN0_THRESHOLD = 50_000


def tune_garbage_collector() -> None:
    """Keep the collector from stalling fan-out to thousands of long-lived subscriptions.

    Every open subscription keeps a few hundred objects alive (socket protocol, tasks,
    generators). Sending one event to thousands of them allocates so much that CPython's
    default thresholds run collections over that whole heap many times per event: measured,
    that tripled the p99 delivery latency (docs/performance.md). Freezing what start-up
    allocated and collecting the young generation less often keeps the collector (needed for
    cycles) without those stalls.
    """
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)


@asynccontextmanager
async def running_hub(new_hub: _HubWithFeeds) -> AsyncIterator[_HubWithFeeds]:
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


def hub_for(redis_url: str) -> _HubWithFeeds:
    """The hub the settings ask for: Redis pub/sub with REDIS_URL, else in-process."""
    if redis_url:
        from services.redis_hub import RedisHub

        return RedisHub(redis_url)
    return InProcessHub()


async def publish(project_id: int, message_id: int) -> None:
    """Announce a committed chat message. Never raises: the change is already committed."""
    try:
        await _hub.publish(project_id, message_id)
    except Exception:
        logger.exception("could not publish chat event %s/%s", project_id, message_id)
