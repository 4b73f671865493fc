"""infra/rate_limit.py `RateLimits`: moving windows, in memory or shared through Redis.

`acquire` counts an event in every window of a key if each has room, else counts nothing
and says how many whole seconds (at least 1) until each has; `wait` only asks. Without
Redis the counts are the process's own; with it, every `RateLimits` on that Redis (every
server process, and the one started after a restart) shares them. An unreachable Redis
falls back to local counts with one warning instead of failing the caller.

`reserve` takes one event from several windows (of several keys) at once, or none;
`refund` gives it back; a `RisingGap` spaces events by a doubling time after its free ones.
Each runs in memory and, with TEST_REDIS_URL, in Redis (infra/claims.py's script).
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator

import pytest

from infra.claims import MAX_LOCAL_MARKS, LocalClaims, RisingGap
from infra.rate_limit import RateLimits
from infra.windows import Window
from tests.support import free_port


@pytest.fixture
async def limits() -> AsyncIterator[RateLimits]:
    local = RateLimits()
    yield local
    await local.close()


def fresh(prefix: str = "key") -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


async def test_amount_events_fit_then_the_key_waits_for_the_oldest(limits: RateLimits) -> None:
    window, key = Window("test", 3, 60), fresh()
    assert [await limits.acquire(key, [window]) for _ in range(3)] == [0, 0, 0]
    wait = await limits.acquire(key, [window])
    assert 59 <= wait <= 60  # whole seconds until the first leaves the window
    assert await limits.count(key, window) == 3  # the refused one was not counted


async def test_asking_counts_nothing(limits: RateLimits) -> None:
    window, key = Window("test", 1, 60), fresh()
    for _ in range(5):
        assert await limits.wait(key, [window]) == 0
    assert await limits.count(key, window) == 0
    assert await limits.acquire(key, [window]) == 0
    assert await limits.wait(key, [window]) > 0


async def test_every_window_must_have_room_and_a_refusal_counts_in_none(
    limits: RateLimits,
) -> None:
    burst, steady, key = Window("burst", 2, 10), Window("steady", 3, 3600), fresh()
    assert await limits.acquire(key, [burst, steady]) == 0
    assert await limits.acquire(key, [burst, steady]) == 0
    assert 9 <= await limits.acquire(key, [burst, steady]) <= 10  # the burst is spent
    assert await limits.count(key, steady) == 2
    # The longer window decides once it is the one that is full.
    assert await limits.acquire(key, [steady]) == 0
    assert 3599 <= await limits.wait(key, [burst, steady]) <= 3600


async def test_keys_and_window_names_count_apart(limits: RateLimits) -> None:
    window, ada, grace = Window("test", 1, 60), fresh("ada"), fresh("grace")
    assert await limits.acquire(ada, [window]) == 0
    assert await limits.acquire(ada, [window]) > 0
    assert await limits.acquire(grace, [window]) == 0
    # Same size, other name: another budget of the same key.
    assert await limits.acquire(ada, [Window("other", 1, 60)]) == 0


async def test_clear_forgets_a_key(limits: RateLimits) -> None:
    window, key = Window("test", 2, 60), fresh()
    await limits.acquire(key, [window])
    await limits.acquire(key, [window])
    await limits.clear(key, window)
    assert await limits.count(key, window) == 0
    assert await limits.acquire(key, [window]) == 0


async def test_a_small_window_runs_out_in_real_time(limits: RateLimits) -> None:
    window, key = Window("test", 1, 1), fresh()
    assert await limits.acquire(key, [window]) == 0
    assert await limits.acquire(key, [window]) == 1  # rounded up, never 0 while full
    await asyncio.sleep(1.05)
    assert await limits.acquire(key, [window]) == 0


async def test_unreachable_redis_counts_locally_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limits = RateLimits(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    window, key = Window("test", 2, 60), fresh()
    try:
        with caplog.at_level(logging.WARNING, logger="milestones.rate_limit"):
            results = [await limits.acquire(key, [window]) for _ in range(3)]
    finally:
        await limits.close()
    # Nobody is refused for the outage, and the budget still holds in this process.
    assert results[:2] == [0, 0] and results[2] > 0
    assert limits.redis_down
    warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(warnings) == 1


async def test_processes_on_one_redis_share_counts_and_a_restart_keeps_them(
    reachable_redis: str,
) -> None:
    window, key = Window("test", 3, 60), fresh()
    first, second = RateLimits(reachable_redis), RateLimits(reachable_redis)
    try:
        assert await first.acquire(key, [window]) == 0
        assert await second.acquire(key, [window]) == 0
        assert await first.acquire(key, [window]) == 0
        assert await second.acquire(key, [window]) > 0  # 2 + 1 fill the window
        assert not (first.redis_down or second.redis_down)
    finally:
        await first.close()
        await second.close()
    restarted = RateLimits(reachable_redis)
    try:
        assert await restarted.count(key, window) == 3
        assert await restarted.acquire(key, [window]) > 0
        await restarted.clear(key, window)
    finally:
        await restarted.close()


# `reserve`: one event in several windows at once or none, the same in memory and in Redis.


@pytest.fixture(params=["memory", "redis"])
async def stores(request: pytest.FixtureRequest) -> AsyncIterator[RateLimits]:
    """RateLimits counting in this process, or in the Redis of TEST_REDIS_URL."""
    url = os.environ.get("TEST_REDIS_URL", "") if request.param == "redis" else ""
    if request.param == "redis" and not url:
        pytest.skip("TEST_REDIS_URL is not set")
    counted = RateLimits(url)
    yield counted
    await counted.close()
    assert not counted.redis_down  # an unreachable Redis would have passed for memory


async def test_a_reservation_counts_in_every_window_or_in_none(stores: RateLimits) -> None:
    small, large = Window("small", 2, 60), Window("large", 3, 60)
    one, two = fresh("one"), fresh("two")
    assert (await stores.reserve([(one, small), (two, large)])).wait == 0
    assert (await stores.reserve([(one, small), (two, large)])).wait == 0
    refused = await stores.reserve([(two, large), (one, small)])
    assert 59 <= refused.wait <= 60 and refused.decided == 1  # `small` said no
    # `large` has one event left: the refusal took none of it.
    assert (await stores.reserve([(two, large)])).wait == 0
    assert (await stores.reserve([(two, large)])).wait > 0


async def test_parallel_reservations_get_exactly_the_room(stores: RateLimits) -> None:
    window, key = Window("test", 5, 60), fresh()
    results = await asyncio.gather(*(stores.reserve([(key, window)]) for _ in range(50)))
    assert sum(1 for r in results if r.wait == 0) == 5


async def test_a_refund_gives_the_event_back(stores: RateLimits) -> None:
    window, key = Window("test", 1, 60), fresh()
    taken = await stores.reserve([(key, window)])
    assert (await stores.reserve([(key, window)])).wait > 0
    await stores.refund(taken, [(key, window)])
    assert (await stores.reserve([(key, window)])).wait == 0


async def test_a_rising_gap_lets_free_events_pass_then_spaces_them(stores: RateLimits) -> None:
    gap, key = RisingGap("gap", 2, 1, 4, 60), fresh()
    assert [(await stores.reserve([(key, gap)])).wait for _ in range(3)] == [0, 0, 1]
    await asyncio.sleep(1.05)
    assert (await stores.reserve([(key, gap)])).wait == 0  # the third, a second later
    assert (await stores.reserve([(key, gap)])).wait == 2  # then two seconds
    await stores.forget([(key, gap)])
    assert (await stores.reserve([(key, gap)])).wait == 0


async def test_marks_last_their_time(stores: RateLimits) -> None:
    key = fresh()
    assert not await stores.marked(key)
    await stores.mark(key, 1)
    assert await stores.marked(key)
    await asyncio.sleep(1.1)
    assert not await stores.marked(key)


async def test_local_marks_are_bounded_the_oldest_going_first() -> None:
    local = LocalClaims()
    for n in range(MAX_LOCAL_MARKS + 10):
        await local.mark(f"mark-{n}", 3600)
    assert not await local.marked("mark-0") and not await local.marked("mark-9")
    assert await local.marked("mark-10") and await local.marked(f"mark-{MAX_LOCAL_MARKS + 9}")
