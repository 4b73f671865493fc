"""Start a coroutine now, in the caller's turn; finish it in a task only if it has to wait.

Fan-out writes one frame to thousands of sockets per event. A write that the socket takes at
once (nearly all of them) then costs a function call, not a task; only a write that must
wait for the socket to drain gets a task, which resumes the coroutine where it stopped.
What Python 3.12 calls an eager task, for one coroutine: the EAGER_WRITES fast path, which
drives the coroutine as its task would (frameworks.asyncio). Off, every coroutine gets its
task at once, as `asyncio.ensure_future` gives it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from frameworks.asyncio import resume
from frameworks.fast_paths import EAGER_WRITES


def start(coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
    """Run `coroutine` until it first waits: None if it finished, else the task finishing it.

    Exceptions it raises before waiting are raised here, to the caller (in the task, with
    EAGER_WRITES off).
    """
    if not EAGER_WRITES.on:
        return asyncio.ensure_future(coroutine)
    try:
        waiting = coroutine.send(None)
    except StopIteration:
        EAGER_WRITES.runs += 1
        return None
    return asyncio.ensure_future(resume(coroutine, waiting))
