"""The Redis hub: one listener per process, and delivery that resumes after Redis restarts.

The restart tests run their own `redis-server` on a free port (never the shared one) and
stop and start it on the same port. The hub-level tests need only that binary; the
end-to-end one also needs TEST_DATABASE_URL (two server processes share PostgreSQL).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from infra.feeds import Delivery
from infra.redis_hub import CHANNEL, RedisHub
from tests.support import Api, RunningServer, make_team, pk
from tests.support_feeds import Subscriber, local_feeds, subscribe
from tests.support_processes import PROCESSES, api_for, create_admin, make_team_with, server_process
from tests.support_redis import OwnRedis, own_redis_server
from tests.support_ws import WsClient, bodies, drain, drain_all, send, until_live, ws_url


@pytest.fixture
async def own_redis() -> AsyncIterator[OwnRedis]:
    async with own_redis_server() as redis:
        yield redis


async def until(condition: object, within: float = 10) -> None:
    deadline = time.monotonic() + within
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def delivered(subscriber: Subscriber, within: float = 10) -> list[str]:
    item = await asyncio.wait_for(subscriber.get(), within)
    assert isinstance(item, Delivery)
    return [m.body for m in item.messages]


async def test_hub_resumes_after_redis_restarts(
    api: Api, server: RunningServer, own_redis: OwnRedis
) -> None:
    # Two hubs on one channel stand for two processes; the session server writes the rows.
    channel = f"test:{uuid.uuid4().hex}"
    listener, publisher = (
        RedisHub(own_redis.url, local_feeds(), channel=channel),
        RedisHub(own_redis.url, local_feeds(), channel=channel),
    )
    await listener.start()
    await publisher.start()
    try:
        team = await make_team(api)
        project = pk(team.project_id)
        subscribers = [
            await subscribe(listener.feeds, project, team.client.token) for _ in range(3)
        ]
        # One listener connection per hub, however many subscribers it serves.
        assert await own_redis.subscribers(channel) == 2

        first = await send(api, team.client, team.project_id, "before")
        await publisher.publish(project, first)
        for subscriber in subscribers:
            assert await delivered(subscriber) == ["before"]

        await own_redis.stop()
        await until(lambda: not listener.connected.is_set())
        during = await send(api, team.client, team.project_id, "during")
        started = time.monotonic()
        await publisher.publish(project, during)  # fails fast and is kept for later
        assert time.monotonic() - started < 2
        assert subscribers[0].pending == 0

        await own_redis.start()
        for subscriber in subscribers:
            assert await delivered(subscriber, within=15) == ["during"]
        await until(lambda: publisher.connected.is_set())

        after = await send(api, team.client, team.project_id, "after")
        await publisher.publish(project, after)
        for subscriber in subscribers:
            assert await delivered(subscriber) == ["after"]
        assert listener.reconnects >= 2
    finally:
        await listener.close()
        await publisher.close()


async def test_hub_starts_while_redis_is_down_and_catches_up(
    api: Api, server: RunningServer, own_redis: OwnRedis
) -> None:
    await own_redis.stop()
    channel = f"test:{uuid.uuid4().hex}"
    hub = RedisHub(own_redis.url, local_feeds(), channel=channel)
    started = time.monotonic()
    await hub.start()  # does not fail, does not wait for ever
    assert time.monotonic() - started < 5 and not hub.connected.is_set()
    try:
        team = await make_team(api)
        subscriber = await subscribe(hub.feeds, pk(team.project_id), team.client.token)
        await send(api, team.client, team.project_id, "while down")
        await own_redis.start()
        # Nobody published it through Redis: the resync after connecting finds the row.
        assert await delivered(subscriber, within=15) == ["while down"]
    finally:
        await hub.close()


async def test_server_processes_keep_delivering_across_a_redis_restart(
    postgres_url: str,
    own_redis: OwnRedis,
    tmp_path: Path,
) -> None:
    async with server_process(postgres_url, own_redis.url, tmp_path, "a") as url_a:
        async with (
            server_process(postgres_url, own_redis.url, tmp_path, "b") as url_b,
            api_for(url_a) as api_a,
            api_for(url_b) as api_b,
        ):
            admin = await create_admin(api_a, postgres_url, tmp_path)
            team = await make_team_with(api_a, admin)
            async with WsClient.open(ws_url(url_a), team.client.token) as ws:
                for _ in range(2):
                    await ws.subscribe(team.project_id)
                await until_live(ws, api_b, team)
                await drain_all(ws)
                assert await own_redis.subscribers(CHANNEL) == 2  # one per process

                await send(api_b, team.freelancer, team.project_id, "before")
                assert await bodies(ws, 2) == ["before", "before"]

                await own_redis.stop()
                await asyncio.sleep(0.5)
                await send(api_b, team.freelancer, team.project_id, "during")
                await own_redis.start()
                assert await bodies(ws, 2, within=20) == ["during", "during"]

                await until_live(ws, api_b, team)
                await drain_all(ws)
                await send(api_b, team.freelancer, team.project_id, "after")
                assert await bodies(ws, 2) == ["after", "after"]


async def test_a_single_process_delivers_through_the_shared_redis(
    reachable_redis: str,
    tmp_path: Path,
) -> None:
    database = f"sqlite://{tmp_path / 'one.sqlite3'}"
    async with server_process(database, reachable_redis, tmp_path) as url, api_for(url) as api:
        admin = await create_admin(api, database, tmp_path)
        team = await make_team_with(api, admin)
        async with WsClient.open(ws_url(url), team.freelancer.token) as ws:
            op = await ws.subscribe(team.project_id)
            await until_live(ws, api, team)
            await drain(ws, op)
            await api.add_milestone(team.freelancer, team.project_id, "Through Redis")
            event = await ws.event(op)
            assert event["kind"] == "MILESTONE_ADDED"
            assert event["milestone"]["title"] == "Through Redis"

            # SIGTERM with a subscription open: the socket is closed ("going away", so the
            # client reconnects elsewhere) and the process, Redis listener included, exits
            # promptly and cleanly.
            process = PROCESSES[url]
            started = time.monotonic()
            process.terminate()
            assert (await ws.close_code())[0] == 1001
            assert await asyncio.wait_for(process.wait(), 10) == 0
            assert time.monotonic() - started < 5
