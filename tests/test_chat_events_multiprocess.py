"""Two `python server.py` processes on one PostgreSQL database and one Redis behave as one.

Needs TEST_DATABASE_URL and TEST_REDIS_URL: skipped without them, failing (not skipped)
when they are set but the services cannot be reached. The helpers here (server processes,
admins made by the operator command) are shared with test_chat_events_redis.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from tests.support import PASSWORD, Account, Api, Team, free_port, fresh_postgres_database
from tests.test_chat_events import SEND, WsClient, pk

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set")
    return url


@pytest.fixture
async def reachable_redis(redis_url: str) -> str:
    client = aioredis.Redis.from_url(redis_url, protocol=2, socket_connect_timeout=3)
    try:
        await client.ping()
    except Exception as error:  # set but unreachable: a failure, not a skip
        pytest.fail(f"TEST_REDIS_URL={redis_url} is unreachable: {error}")
    finally:
        await client.aclose()
    return redis_url


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if not admin_url:
        pytest.skip("TEST_DATABASE_URL is not set")
    async with fresh_postgres_database(admin_url) as url:
        yield url


def server_env(database_url: str, redis_url: str, tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "MAIL_WORKER": "0",
        "MAIL_DIR": str(tmp / "mail"),
        "GRAPHIQL": "0",
    }


# Base URL -> the running `server.py` process behind it, for tests that stop it themselves.
PROCESSES: dict[str, asyncio.subprocess.Process] = {}


@contextlib.asynccontextmanager
async def server_process(
    database_url: str, redis_url: str, tmp: Path, name: str = "server"
) -> AsyncIterator[str]:
    """`python server.py --port P` until the block ends; yields its base URL."""
    port = free_port()
    log = tmp / f"{name}-{port}.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "server.py",
            "--port",
            str(port),
            cwd=ROOT,
            env=server_env(database_url, redis_url, tmp),
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        async with httpx.AsyncClient() as client:
            while True:
                if process.returncode is not None:
                    pytest.fail(f"{name} exited during start-up:\n{log.read_text()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{url}/healthz")).status_code == 200:
                        break
                assert time.monotonic() < deadline, log.read_text()
                await asyncio.sleep(0.1)
        PROCESSES[url] = process
        yield url
    finally:
        PROCESSES.pop(url, None)
        if process.returncode is None:
            process.terminate()
            try:
                # Open subscriptions must not keep the server from stopping.
                await asyncio.wait_for(process.wait(), timeout=10)
            except TimeoutError:
                process.kill()
                await process.wait()
                pytest.fail(f"{name} did not stop within 10 s:\n{log.read_text()}")


async def create_admin(api: Api, database_url: str, tmp: Path) -> Account:
    """An admin made with the operator's command, then logged in over HTTP."""
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "server.py",
        "create-admin",
        "--email",
        email,
        "--password",
        PASSWORD,
        "--name",
        "Ada Admin",
        cwd=ROOT,
        env=server_env(database_url, "", tmp),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    data = await api.data(
        "mutation($input: LogInInput!) { logIn(input: $input) { token user { id } } }",
        {"input": {"email": email, "password": PASSWORD}},
    )
    login = data["logIn"]
    return Account(login["user"]["id"], login["token"], email, "Ada Admin", "ADMIN")


async def make_team_with(api: Api, admin: Account) -> Team:
    client = await api.sign_up("CLIENT")
    freelancer = await api.sign_up("FREELANCER")
    outsider = await api.sign_up("FREELANCER")
    project_id = await api.create_project(client, freelancer)
    await api.unlock(admin, project_id)
    return Team(client, freelancer, admin, outsider, project_id)


@contextlib.asynccontextmanager
async def api_for(url: str) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield Api(client)


async def send(api: Api, account: Account, project_id: str, body: str) -> int:
    data = await api.data(SEND, {"input": {"projectId": project_id, "body": body}}, account.token)
    return pk(data["sendChatMessage"]["message"]["id"])


async def until_live(ws: WsClient, op: str, api: Api, team: Team) -> None:
    """Subscribing has no reply: post warm-up messages until one arrives (see drain())."""
    for attempt in range(50):
        await send(api, team.client, team.project_id, f"warm-up {attempt}")
        with contextlib.suppress(TimeoutError):
            # Any of the connection's operations will do: they all joined before this one.
            message = await ws.receive(within=0.3)
            assert message["type"] == "next", message
            assert message["payload"]["data"]["chatEvents"]["body"].startswith("warm-up")
            return
    pytest.fail("the subscription never went live")


async def drain(ws: WsClient, op: str) -> None:
    """Discard events until none has come for a moment (warm-ups of other subscribers)."""
    with contextlib.suppress(TimeoutError):
        while True:
            await ws.event(op, within=0.3)


async def test_a_subscriber_on_one_process_receives_changes_made_through_the_other(
    postgres_url: str, reachable_redis: str, tmp_path: Path
) -> None:
    async with server_process(postgres_url, reachable_redis, tmp_path, "a") as url_a:
        async with (
            server_process(postgres_url, reachable_redis, tmp_path, "b") as url_b,
            api_for(url_a) as api_a,
            api_for(url_b) as api_b,
        ):
            admin = await create_admin(api_a, postgres_url, tmp_path)
            team = await make_team_with(api_a, admin)
            ws_a_url = url_a.replace("http://", "ws://") + "/graphql"
            ws_b_url = url_b.replace("http://", "ws://") + "/graphql"
            async with (
                WsClient.open(ws_a_url, team.client.token) as on_a,
                WsClient.open(ws_b_url, team.freelancer.token) as on_b,
            ):
                op_a = await on_a.subscribe(team.project_id)
                op_b = await on_b.subscribe(team.project_id)
                await until_live(on_a, op_a, api_b, team)
                await until_live(on_b, op_b, api_a, team)
                await drain(on_a, op_a)
                await drain(on_b, op_b)

                added = await api_b.add_milestone(team.freelancer, team.project_id, "Load test")
                event = await on_a.event(op_a)
                assert event["kind"] == "MILESTONE_ADDED"
                assert event["milestone"]["id"] == added["milestone"]["id"]
                assert event["actor"]["id"] == team.freelancer.id
                assert (await on_b.event(op_b))["kind"] == "MILESTONE_ADDED"

                # Concurrent writers on both processes: every subscriber sees every event,
                # once, in the same (commit) order.
                ids = await asyncio.gather(
                    *(
                        send(api, account, team.project_id, f"burst {i}")
                        for i, (api, account) in enumerate(
                            [(api_a, team.client), (api_b, team.freelancer)] * 10
                        )
                    )
                )
                seen_a = [pk((await on_a.event(op_a))["id"]) for _ in ids]
                seen_b = [pk((await on_b.event(op_b))["id"]) for _ in ids]
                assert seen_a == seen_b == sorted(ids)
                await on_a.nothing(0.3)
                await on_b.nothing(0.3)
