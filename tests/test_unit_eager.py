"""infra.eager: a coroutine runs in the caller's turn, and finishes in a task only if it waits."""

from __future__ import annotations

import asyncio

import pytest

from infra import eager


async def test_a_coroutine_that_does_not_wait_finishes_in_the_call() -> None:
    done: list[str] = []

    async def write() -> None:
        done.append("written")

    assert eager.start(write()) is None
    assert done == ["written"]


async def test_a_coroutine_that_waits_is_finished_by_a_task() -> None:
    gate = asyncio.get_running_loop().create_future()
    steps: list[str] = []

    async def write() -> None:
        steps.append("before")
        steps.append(await gate)
        await asyncio.sleep(0)
        steps.append("after")

    task = eager.start(write())
    assert task is not None and steps == ["before"]
    gate.set_result("opened")
    await asyncio.wait_for(task, 1)
    assert steps == ["before", "opened", "after"]


async def test_the_future_failing_is_raised_in_the_coroutine() -> None:
    gate = asyncio.get_running_loop().create_future()
    caught: list[BaseException] = []

    async def write() -> None:
        try:
            await gate
        except OSError as error:
            caught.append(error)

    task = eager.start(write())
    assert task is not None
    gate.set_exception(OSError("gone"))
    await asyncio.wait_for(task, 1)
    assert [str(e) for e in caught] == ["gone"]


async def test_cancelling_the_task_cancels_the_coroutine_where_it_waits() -> None:
    gate = asyncio.get_running_loop().create_future()
    cleaned: list[bool] = []

    async def write() -> None:
        try:
            await gate
        finally:
            cleaned.append(True)

    task = eager.start(write())
    assert task is not None
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == [True] and gate.cancelled()


async def test_an_error_before_waiting_reaches_the_caller() -> None:
    async def write() -> None:
        raise ValueError("at once")

    with pytest.raises(ValueError, match="at once"):
        eager.start(write())
