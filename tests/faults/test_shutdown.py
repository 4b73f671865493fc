"""`python server.py` and `python server.py worker` stop cleanly on SIGTERM and on SIGINT.

The server stops accepting connections, closes open WebSockets with 1001 (going away) so
that their clients reconnect elsewhere, answers the HTTP requests already in flight, hands
back the e-mail its worker is sending, and exits with status 0, as supervisors expect of a
clean stop. Each server runs on its own SQLite file, as an operator would run it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from infra.shutdown import GOING_AWAY, GOING_AWAY_REASON
from schema import ids
from tests.support import PASSWORD, ROOT, TEST_ID_SECRET
from tests.support_mail import Sink, smtp_server
from tests.support_processes import (
    PROCESSES,
    api_for,
    create_admin,
    make_team_with,
    server_env,
    server_process,
)
from tests.support_ws import WsClient, until_live, ws_url

SIGNALS = [pytest.param(signal.SIGTERM, id="SIGTERM"), pytest.param(signal.SIGINT, id="SIGINT")]
# A clean stop takes well under this; the bound is what a supervisor would wait.
EXIT_WITHIN = 20.0
LOG_IN = "mutation($input: LogInInput!) { logIn(input: $input) { token } }"


@pytest.fixture(autouse=True)
def id_key() -> None:
    """Read the processes' global IDs (signed with the suite's key) without a server here."""
    ids.use_key(TEST_ID_SECRET.encode())


@contextlib.asynccontextmanager
async def served(
    tmp_path: Path, env: dict[str, str] | None = None
) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    """`python server.py` on a SQLite file of its own: its URL and its process."""
    database_url = f"sqlite://{tmp_path / 'db.sqlite3'}"
    async with server_process(database_url, "", tmp_path, env=env) as url:
        yield url, PROCESSES[url]


async def exit_status(process: asyncio.subprocess.Process) -> int:
    return await asyncio.wait_for(process.wait(), EXIT_WITHIN)


async def refused(url: str, within: float = 10.0) -> None:
    """Until a new connection to `url` is refused; fails if it still accepts after `within`
    (generous: on two busy cores the signal may take a few seconds to be handled)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            async with httpx.AsyncClient(timeout=1) as fresh:
                await fresh.get(f"{url}/healthz")
        except httpx.ConnectError:
            return
        await asyncio.sleep(0.02)
    pytest.fail(f"{url} still accepted new connections {within} s after the signal")


@pytest.mark.parametrize("signum", SIGNALS)
async def test_open_websockets_are_closed_with_going_away(tmp_path: Path, signum: int) -> None:
    async with served(tmp_path) as (url, process), api_for(url) as api:
        team = await make_team_with(
            api, await create_admin(api, f"sqlite://{tmp_path / 'db.sqlite3'}", tmp_path)
        )
        async with (
            WsClient.open(ws_url(url), team.client.token) as subscriber,
            WsClient.open(ws_url(url)) as anonymous,
        ):
            await subscriber.subscribe(team.project_id)
            await until_live(subscriber, api, team)
            process.send_signal(signum)
            assert await subscriber.close_code() == (GOING_AWAY, GOING_AWAY_REASON)
            assert await anonymous.close_code() == (GOING_AWAY, GOING_AWAY_REASON)
        assert await exit_status(process) == 0


@pytest.mark.parametrize("signum", SIGNALS)
async def test_requests_in_flight_are_answered_and_new_connections_refused(
    tmp_path: Path, signum: int
) -> None:
    async with served(tmp_path) as (url, process), api_for(url) as api:
        accounts = [await api.sign_up("CLIENT") for _ in range(3)]
        sent_half = [asyncio.Event() for _ in accounts]
        rest = asyncio.Event()

        async def slowly(body: bytes, half: asyncio.Event) -> AsyncIterator[bytes]:
            # A client on a slow network: its request is in flight until the body is all in.
            yield body[: len(body) // 2]
            half.set()
            await rest.wait()
            yield body[len(body) // 2 :]

        async with httpx.AsyncClient(base_url=url, timeout=EXIT_WITHIN) as client:
            requests = [
                asyncio.create_task(
                    client.post(
                        "/graphql",
                        content=slowly(log_in_body(account.email), half),
                        headers={"content-type": "application/json"},
                    )
                )
                for account, half in zip(accounts, sent_half, strict=True)
            ]
            for half in sent_half:
                await asyncio.wait_for(half.wait(), 5)
            process.send_signal(signum)
            await refused(url)
            assert process.returncode is None  # still answering what it had accepted
            rest.set()
            for request in requests:
                response = await request
                assert response.status_code == 200, response.text
                assert response.json()["data"]["logIn"]["token"], response.text
        assert await exit_status(process) == 0


def log_in_body(email: str) -> bytes:
    return json.dumps(
        {"query": LOG_IN, "variables": {"input": {"email": email, "password": PASSWORD}}}
    ).encode()


@pytest.mark.long
async def test_the_email_being_sent_is_handed_back(tmp_path: Path) -> None:
    database_url = f"sqlite://{tmp_path / 'db.sqlite3'}"
    sink = Sink(hang=True)  # takes the first message and never answers
    with smtp_server(sink) as controller:
        env = {
            "MAIL_WORKER": "1",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(controller.port),
            "MAIL_POLL_SECONDS": "0.05",
            # The server's answer never comes: the worker hands the e-mail back once this
            # grace is over (10 s by default).
            "MAIL_STOP_GRACE_SECONDS": "0.5",
        }
        async with served(tmp_path, env) as (url, process), api_for(url) as api:
            await make_team_with(api, await create_admin(api, database_url, tmp_path))
            # The unlock e-mail is being sent: the worker holds its claim.
            assert await asyncio.to_thread(sink.hung.wait, 10)
            assert outbox(tmp_path)[0][1] is not None
            stopping = time.monotonic()
            process.send_signal(signal.SIGTERM)
            assert await exit_status(process) == 0
            # The grace above, not the default's 10 s (the rest of a stop takes ~1 s).
            assert time.monotonic() - stopping < 8
    [(status, locked_by)] = outbox(tmp_path)
    assert (status, locked_by) == ("PENDING", None)  # free for the next worker at once


def outbox(tmp_path: Path) -> list[tuple[str, str | None]]:
    with contextlib.closing(sqlite3.connect(tmp_path / "db.sqlite3")) as db:
        return db.execute("SELECT status, locked_by FROM outbox_email ORDER BY id").fetchall()


@pytest.mark.parametrize("signum", SIGNALS)
async def test_the_worker_command_exits_cleanly(tmp_path: Path, signum: int) -> None:
    env = server_env(f"sqlite://{tmp_path / 'db.sqlite3'}", "", tmp_path)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "server.py",
        "worker",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    log = b""
    while b"mail worker" not in log:
        line = await asyncio.wait_for(process.stderr.readline(), 20)
        assert line, log.decode()
        log += line
    process.send_signal(signum)
    log += await asyncio.wait_for(process.stderr.read(), EXIT_WITHIN)
    assert await exit_status(process) == 0, log.decode()
    assert b" stopped" in log, log.decode()
