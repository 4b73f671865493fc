"""Start a coroutine now, in the caller's turn; finish it in a task only if it has to wait.

Fan-out writes one frame to thousands of sockets per event. A write that the socket takes at
once (nearly all of them) then costs a function call, not a task; only a write that must
wait for the socket to drain gets a task, which resumes the coroutine where it stopped.
What Python 3.12 calls an eager task, for one coroutine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


def start(coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
    """Run `coroutine` until it first waits: None if it finished, else the task finishing it.

    Exceptions it raises before waiting are raised here, to the caller.
    """
    try:
        waiting = coroutine.send(None)
    except StopIteration:
        return None
    return asyncio.ensure_future(_resume(coroutine, waiting))


async def _resume(coroutine: Coroutine[Any, Any, None], waiting: Any) -> None:
    """Drive `coroutine` on from the future it stopped at, as its own task would have."""
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
