"""Chat event fan-out: the one place events are published, after their transaction commits.

The wire carries only (project id, chat message id); subscribers load the rows themselves.
Which hub runs is chosen at start-up: in-process by default, Redis with REDIS_URL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol


class EventHub(Protocol):
    """Delivers (project id, chat message id) notifications to this process's subscribers."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, project_id: int, message_id: int) -> None: ...

    def subscribe(self, project_id: int) -> AsyncIterator[int]:
        """Yields the id of each chat message of `project_id` committed from now on."""
        ...


class InProcessHub:
    """Fan-out inside one process: each subscriber owns a queue."""

    def __init__(self) -> None:
        self._subscribers: dict[int, set[asyncio.Queue[int]]] = {}

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._subscribers.clear()

    async def publish(self, project_id: int, message_id: int) -> None:
        for queue in self._subscribers.get(project_id, ()):
            queue.put_nowait(message_id)

    async def subscribe(self, project_id: int) -> AsyncIterator[int]:
        queue: asyncio.Queue[int] = asyncio.Queue()
        self._subscribers.setdefault(project_id, set()).add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            subscribers = self._subscribers.get(project_id)
            if subscribers is not None:
                subscribers.discard(queue)
                if not subscribers:
                    del self._subscribers[project_id]


_hub: EventHub = InProcessHub()


def hub() -> EventHub:
    return _hub


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
    await _hub.publish(project_id, message_id)
