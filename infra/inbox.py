"""A small unbounded queue for one reader: a list, and a future made only while it waits.

Thousands of idle sockets and subscriptions each hold one, nearly always empty; an idle
`asyncio.Queue` costs about 2 KiB (three deques) each. Same order and waking as the queue.
"""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

T = TypeVar("T")


class Inbox(Generic[T]):
    """`put_nowait`, `get` and `empty`, as `asyncio.Queue` has them, for one reader."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[T] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: T) -> None:
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self) -> T:
        """The oldest item; waits while there is none."""
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)

    def empty(self) -> bool:
        return not self._items

    def __len__(self) -> int:
        return len(self._items)
