"""Concurrent lookups of one key share one query: a storm of sockets presenting the same token
reads it once, not once per socket.

Only lookups in flight are shared; nothing is kept once the query returns, so a lookup that
starts after a change (a token revoked or expired, even by another process this one never
heard from) always sees it. A caller also passes the `generation` of what it knows: a lookup
started before the caller heard of a change (a revocation announced while the query ran) is
not shared with it; it starts its own.

The query runs in a task of its own, so a caller that goes away (its socket closed) does not
cancel it for the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class InFlight(Generic[K, V]):
    """Key -> the one lookup running for it, with the generation it started in."""

    __slots__ = ("_running",)

    def __init__(self) -> None:
        self._running: dict[K, tuple[int, asyncio.Task[V]]] = {}

    async def get(self, key: K, generation: int, load: Callable[[], Awaitable[V]]) -> V:
        entry = self._running.get(key)
        if entry is None or entry[0] != generation:
            entry = (generation, asyncio.ensure_future(load()))
            self._running[key] = entry
            entry[1].add_done_callback(lambda task: self._done(key, task))
        return await asyncio.shield(entry[1])

    def _done(self, key: K, task: asyncio.Task[V]) -> None:
        entry = self._running.get(key)
        if entry is not None and entry[1] is task:
            del self._running[key]
        if not task.cancelled():
            # Retrieved here so that a failure nobody waits for any more is not reported as
            # "never retrieved"; every caller still waiting gets it raised.
            task.exception()

    def __len__(self) -> int:
        return len(self._running)
