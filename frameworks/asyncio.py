"""What of asyncio's tasks the eager start (infra.eager) relies on beyond its published API.

A coroutine that awaits a future yields that future to whoever drives it, with the
future's `_asyncio_future_blocking` set to True; the task driving it must set it back to
False before waiting on the future, or asyncio's `Future.__await__` protocol takes the
future for one yielded wrongly (CPython 3.4 onwards, pure Python and C tasks alike; tested
with 3.11, `frameworks.fast_paths.PYTHON`). `resume` drives such a coroutine on as its task
would. If the protocol changes, a write that had to wait would fail or hang: the version
check turns EAGER_WRITES off outside the tested versions, and every write gets its task.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


async def resume(coroutine: Coroutine[Any, Any, None], waiting: Any) -> None:
    """Drive `coroutine` on from `waiting`, the first thing it yielded, as its task would."""
    while True:
        error: BaseException | None = None
        try:
            if waiting is None:
                await asyncio.sleep(0)  # a bare yield: give the loop one turn
            else:
                # The coroutine yielded it marked as awaited, for its task to clear: as
                # that task, clear it, and await it in its place.
                waiting._asyncio_future_blocking = False
                await waiting
        except BaseException as caught:  # handed on below, never swallowed
            error = caught
        try:
            if error is not None and not _ended_with_error(waiting):
                # This task was cancelled: so is the coroutine, where it waits.
                waiting = coroutine.throw(error)
            else:
                # Done: the coroutine reads the future's result, or its error, itself.
                waiting = coroutine.send(None)
        except StopIteration:
            return


def _ended_with_error(waiting: Any) -> bool:
    return (
        isinstance(waiting, asyncio.Future)
        and waiting.done()
        and (waiting.cancelled() or waiting.exception() is not None)
    )
