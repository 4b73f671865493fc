"""/livez and /readyz of `python server.py` while it starts, runs and stops.

Start-up is held at its migration by a lock the test takes on the migrations table
(PostgreSQL), so that the probes are asked while it is certainly still migrating; the
shutdown delay is a setting.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from tests.support import ROOT, eventually, free_port
from tests.support_processes import PROCESSES, run_create_admin, server_env, server_process
from web.probes import LATEST_MIGRATION, MIGRATIONS_TABLE

EXIT_WITHIN = 20.0


async def status(client: httpx.AsyncClient, path: str) -> tuple[int, dict[str, object]]:
    response = await client.get(path)
    return response.status_code, response.json()


def output(log: Path) -> str:
    return log.read_text()


@contextlib.asynccontextmanager
async def starting(env: dict[str, str], log: Path) -> AsyncIterator[httpx.AsyncClient]:
    """`python server.py`, yielding a client for it as soon as it listens."""
    port = free_port()
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "server.py", "--port", str(port), cwd=ROOT, env=env,
            stdout=out, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            deadline = time.monotonic() + 30
            while True:
                assert process.returncode is None, output(log)
                assert time.monotonic() < deadline, output(log)
                with contextlib.suppress(httpx.TransportError):
                    await client.get("/livez")
                    break
                await asyncio.sleep(0.05)
            yield client
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), EXIT_WITHIN)


async def test_ready_only_once_migrated_while_live_throughout(
    postgres_url: str, tmp_path: Path
) -> None:
    env = server_env(postgres_url, "", tmp_path)
    code, output = await run_create_admin(env, "first@example.com", "First")  # migrates
    assert code == 0, output
    parts = urlsplit(postgres_url)
    holder = await asyncpg.connect(urlunsplit(("postgresql", *parts[1:])))
    try:
        transaction = holder.transaction()
        await transaction.start()
        # The server's migration reads this table first: it waits until the lock goes.
        await holder.execute(f"LOCK TABLE {MIGRATIONS_TABLE} IN ACCESS EXCLUSIVE MODE")
        async with starting(env, tmp_path / "server.log") as client:
            assert await status(client, "/livez") == (200, {"status": "ok"})
            assert await status(client, "/readyz") == (503, {"status": "starting"})
            assert (await client.get("/healthz")).status_code == 503
            api = await client.post("/graphql", json={"query": "{ __typename }"})
            assert api.status_code == 503 and api.headers["retry-after"] == "5"
            assert api.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
            await transaction.commit()

            async def ready() -> bool:
                return (await client.get("/readyz")).status_code == 200

            await eventually(ready)
            assert await status(client, "/readyz") == (
                200,
                {"status": "ready", "checks": {"database": "ok"}},
            )
            assert (await client.post("/graphql", json={"query": "{ __typename }"})).json() == {
                "data": {"__typename": "Query"}
            }
    finally:
        await holder.close()


async def test_not_ready_when_a_migration_is_missing(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite3"
    async with server_process(f"sqlite://{database}", "", tmp_path) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            assert (await status(client, "/readyz"))[0] == 200
            # As if the database were restored from a backup older than the code.
            with sqlite3.connect(database) as db:
                db.execute(f"DELETE FROM {MIGRATIONS_TABLE} WHERE name = ?", (LATEST_MIGRATION,))
            assert await status(client, "/readyz") == (
                503,
                {"status": "unavailable", "checks": {"database": "migrations pending"}},
            )
            assert await status(client, "/livez") == (200, {"status": "ok"})


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_not_ready_while_stopping_then_a_clean_exit(tmp_path: Path, signum: int) -> None:
    delay = 3.0
    env = {"SHUTDOWN_DELAY_SECONDS": str(delay)}
    async with server_process(f"sqlite://{tmp_path / 'db.sqlite3'}", "", tmp_path, env=env) as url:
        process = PROCESSES[url]
        async with httpx.AsyncClient(base_url=url) as client:
            assert await status(client, "/readyz") == (
                200,
                {"status": "ready", "checks": {"database": "ok"}},
            )
            signalled = time.monotonic()
            process.send_signal(signum)

            async def stopping() -> bool:
                return await status(client, "/readyz") == (503, {"status": "stopping"})

            await eventually(stopping, within=delay)
            assert await status(client, "/livez") == (200, {"status": "ok"})
            # Still serving the traffic that comes meanwhile.
            answer = await client.post("/graphql", json={"query": "{ __typename }"})
            assert answer.json() == {"data": {"__typename": "Query"}}
            assert await asyncio.wait_for(process.wait(), EXIT_WITHIN) == 0
            assert time.monotonic() - signalled >= delay
