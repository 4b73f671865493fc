"""Chat events across a Redis restart: stopped with SIGTERM, started again on its port.

What must hold, with real `python server.py` processes and a private redis-server:

- while Redis is down, the subscribers of the process that made a change get it at once,
  and the change's response is not held up by the dead Redis;
- after Redis returns, every process delivers what it missed (read from the database) and
  everything sent later, in commit order, each event exactly once.

A hung Redis (SIGSTOP, then SIGCONT) holds up neither responses nor local delivery, and what
could not be published then goes out. Each test first shows delivery working before the fault. The two-process test needs
TEST_DATABASE_URL (both processes share one PostgreSQL database); it fails, not skips, when
that is set but unreachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from infra.redis_hub import CHANNEL
from schema import ids
from tests.support import TEST_ID_SECRET, Api, Team, pk
from tests.support_processes import api_for, create_admin, make_team_with, server_process
from tests.support_redis import own_redis_server
from tests.support_ws import SEND, WsClient, drain, until_live, ws_url

LOST = "Redis listener lost"
RECONNECTED = "Redis listener reconnected"


@pytest.fixture(autouse=True)
def id_key() -> None:
    """Read the processes' global IDs (signed with the suite's key) without a server here."""
    ids.use_key(TEST_ID_SECRET.encode())


# How long a test waits for an event it expects: generous, so that a busy machine is no
# failure; an event that never comes still fails.
EVENT_WITHIN = 10.0
# A response (or a local delivery) that waited on the unreachable Redis would wait out its
# connect timeout (2 s); one that does not takes a fraction of that, even on a busy machine.
NO_WAIT = 2.0


def server_log(tmp: Path, name: str) -> Path:
    """The output of the server process started as `name` (see `server_process`)."""
    (log,) = tmp.glob(f"{name}-*.log")
    return log


def read(log: Path) -> str:
    return log.read_text()


async def logged(log: Path, text: str, within: float = 10) -> None:
    """Until `text` appears in the server's log."""
    deadline = time.monotonic() + within
    while text not in read(log):
        assert time.monotonic() < deadline, f"{text!r} not logged:\n{read(log)}"
        await asyncio.sleep(0.05)


async def timed_send(api: Api, team: Team, body: str) -> tuple[int, float]:
    """Post a chat message as the client; its id, and how long the response took."""
    started = time.monotonic()
    data = await api.data(
        SEND, {"input": {"projectId": team.project_id, "body": body}}, team.client.token
    )
    return pk(data["sendChatMessage"]["message"]["id"]), time.monotonic() - started


@contextlib.asynccontextmanager
async def heard_on_redis(url: str) -> AsyncIterator[list[str]]:
    """What is published on the chat channel, as another server process would hear it."""
    client = aioredis.Redis.from_url(url, protocol=2, decode_responses=True)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(CHANNEL)
    heard: list[str] = []

    async def listen() -> None:
        async for message in pubsub.listen():
            heard.append(message["data"])

    listening = asyncio.create_task(listen())
    try:
        yield heard
    finally:
        listening.cancel()
        with contextlib.suppress(BaseException):
            await listening
        await pubsub.aclose()
        await client.aclose()


async def until(condition: Callable[[], bool], within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def seen(ws: WsClient, op: str, within: float) -> tuple[int, str]:
    event = await ws.event(op, within=within)
    return pk(event["id"]), event["body"]


async def test_one_process_delivers_during_and_after_a_redis_restart(tmp_path: Path) -> None:
    database = f"sqlite://{tmp_path / 'one.sqlite3'}"
    async with (
        own_redis_server() as redis,
        server_process(database, redis.url, tmp_path, "one") as url,
        api_for(url) as api,
    ):
        log = server_log(tmp_path, "one")
        team = await make_team_with(api, await create_admin(api, database, tmp_path))
        async with WsClient.open(ws_url(url), team.freelancer.token) as ws:
            op = await ws.subscribe(team.project_id)
            await until_live(ws, api, team)
            await drain(ws, op)

            before, _ = await timed_send(api, team, "before")
            assert await seen(ws, op, within=EVENT_WITHIN) == (before, "before")

            await redis.stop()
            await logged(log, LOST)
            during, took = await timed_send(api, team, "during")
            assert took < NO_WAIT, f"the response waited {took:.2f}s on the dead Redis"
            assert await seen(ws, op, within=NO_WAIT) == (during, "during")

            await asyncio.sleep(1)
            await redis.start()
            await logged(log, RECONNECTED)
            # The operator's case: the first message a few seconds after the restart.
            await asyncio.sleep(3)
            after, _ = await timed_send(api, team, "after")
            assert await seen(ws, op, within=EVENT_WITHIN) == (after, "after")
            later, _ = await timed_send(api, team, "later")
            assert await seen(ws, op, within=EVENT_WITHIN) == (later, "later")
            assert before < during < after < later
            await ws.nothing(1.0)


async def test_a_second_process_catches_up_after_a_redis_restart(
    postgres_url: str, tmp_path: Path
) -> None:
    async with (
        own_redis_server() as redis,
        server_process(postgres_url, redis.url, tmp_path, "a") as url_a,
        server_process(postgres_url, redis.url, tmp_path, "b") as url_b,
        api_for(url_a) as api_a,
    ):
        logs = [server_log(tmp_path, "a"), server_log(tmp_path, "b")]
        team = await make_team_with(api_a, await create_admin(api_a, postgres_url, tmp_path))
        async with WsClient.open(ws_url(url_b), team.freelancer.token) as on_b:
            op = await on_b.subscribe(team.project_id)
            await until_live(on_b, api_a, team)
            await drain(on_b, op)

            before, _ = await timed_send(api_a, team, "before")
            assert await seen(on_b, op, within=EVENT_WITHIN) == (before, "before")

            await redis.stop()
            for log in logs:
                await logged(log, LOST)
            during = [await timed_send(api_a, team, f"during {i}") for i in range(3)]
            assert max(took for _, took in during) < NO_WAIT, during
            await asyncio.sleep(1)
            await redis.start()
            returned = time.monotonic()
            for i, (message_id, _) in enumerate(during):
                assert await seen(on_b, op, within=EVENT_WITHIN) == (message_id, f"during {i}")
            caught_up = time.monotonic() - returned
            assert caught_up < 8, f"B caught up {caught_up:.1f}s after Redis returned"

            for log in logs:
                await logged(log, RECONNECTED)
            after, _ = await timed_send(api_a, team, "after")
            assert await seen(on_b, op, within=EVENT_WITHIN) == (after, "after")
            await asyncio.sleep(3)
            later, _ = await timed_send(api_a, team, "later")
            assert await seen(on_b, op, within=EVENT_WITHIN) == (later, "later")
            ids = [before, *(i for i, _ in during), after, later]
            assert ids == sorted(ids)
            await on_b.nothing(1.0)


async def test_a_hung_redis_holds_up_neither_responses_nor_local_delivery(tmp_path: Path) -> None:
    database = f"sqlite://{tmp_path / 'hung.sqlite3'}"
    async with (
        own_redis_server() as redis,
        server_process(database, redis.url, tmp_path, "hung") as url,
        api_for(url) as api,
        heard_on_redis(redis.url) as heard,
    ):
        team = await make_team_with(api, await create_admin(api, database, tmp_path))
        project = pk(team.project_id)
        async with WsClient.open(ws_url(url), team.freelancer.token) as ws:
            op = await ws.subscribe(team.project_id)
            await until_live(ws, api, team)
            await drain(ws, op)

            before, _ = await timed_send(api, team, "before")
            assert await seen(ws, op, within=EVENT_WITHIN) == (before, "before")
            await until(lambda: f"{project}:{before}" in heard, within=EVENT_WITHIN)

            redis.freeze()
            frozen, took = [], []
            for i in range(5):
                message_id, seconds = await timed_send(api, team, f"frozen {i}")
                assert await seen(ws, op, within=NO_WAIT) == (message_id, f"frozen {i}")
                frozen.append(message_id)
                took.append(seconds)
            # The first also waits out the rate limiter's Redis timeout (0.5 s); then the
            # limits count locally, and nothing else may wait on Redis at all: the typical
            # response (the median, which one slow moment of a busy machine does not move)
            # is quicker than that timeout.
            assert max(took) < NO_WAIT and statistics.median(took[1:]) < 0.5, took
            await asyncio.sleep(1)
            redis.thaw()
            # Other processes hear of the newest row once Redis answers again.
            await until(lambda: f"{project}:{frozen[-1]}" in heard, within=8)

            after, _ = await timed_send(api, team, "after")
            assert await seen(ws, op, within=EVENT_WITHIN) == (after, "after")
            assert [before, *frozen, after] == sorted({before, *frozen, after})
            await ws.nothing(1.0)
