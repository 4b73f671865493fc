"""`python server.py` in a subprocess, as an operator runs it, and what tests do with it.

For tests where several server processes share one database and one Redis, or where the
process itself (its signals, its commands) is what is tested.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import (
    PASSWORD,
    ROOT,
    SUITE_RATE_LIMITS,
    TEST_ID_SECRET,
    Account,
    Api,
    Team,
    free_port,
)


def server_env(database_url: str, redis_url: str, tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "MAIL_WORKER": "0",
        "MAIL_DIR": str(tmp / "mail"),
        "GRAPHIQL": "0",
        "ID_SECRET": TEST_ID_SECRET,
        "RATE_LIMITS": ",".join(f"{name}={count}/{per}" for name, count, per in SUITE_RATE_LIMITS),
    }


# Base URL -> the running `server.py` process behind it, for tests that stop it themselves.
PROCESSES: dict[str, asyncio.subprocess.Process] = {}


@contextlib.asynccontextmanager
async def server_process(
    database_url: str,
    redis_url: str,
    tmp: Path,
    name: str = "server",
    env: dict[str, str] | None = None,
) -> AsyncIterator[str]:
    """`python server.py --port P` until the block ends; yields its base URL.

    `env` adds to, or overrides, the variables of `server_env`.
    """
    port = free_port()
    log = tmp / f"{name}-{port}.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "server.py",
            "--port",
            str(port),
            cwd=ROOT,
            env=server_env(database_url, redis_url, tmp) | (env or {}),
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


async def run_create_admin(env: dict[str, str], email: str, name: str) -> tuple[int, str]:
    """`server.py create-admin` as the README recommends (the password in ADMIN_PASSWORD,
    never on the command line): its exit status and output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "server.py",
        "create-admin",
        "--email",
        email,
        "--name",
        name,
        cwd=ROOT,
        env={**env, "ADMIN_PASSWORD": PASSWORD},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode(errors="replace")


async def create_admin(api: Api, database_url: str, tmp: Path) -> Account:
    """An admin made with the operator's command, then logged in over HTTP."""
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    status, output = await run_create_admin(server_env(database_url, "", tmp), email, "Ada Admin")
    assert status == 0, output
    data = await api.data(
        "mutation($input: LogInInput!) { logIn(input: $input) { token user { id } } }",
        {"input": {"email": email, "password": PASSWORD}},
    )
    login = data["logIn"]
    return Account(login["user"]["id"], login["token"], email, "Ada Admin", "ADMIN")


async def make_team_with(api: Api, admin: Account) -> Team:
    """Like `make_team`, with an admin made beforehand (a server process has its own)."""
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


@contextlib.contextmanager
def serving(
    env: dict[str, str], cwd: Path, *extra: str, command: tuple[str, ...] = ()
) -> Iterator[str]:
    """`python server.py --port P` (a blocking subprocess, for synchronous tests) until the
    block ends; yields its base URL, its log beside it in `cwd`. `command` runs another
    command line instead of `python server.py` (the installed console script)."""
    port = free_port()
    log = (cwd / f"server-{port}.log").open("w")
    process = subprocess.Popen(
        [*(command or (sys.executable, str(ROOT / "server.py"))), "--port", str(port), *extra],
        env=env,
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, (cwd / f"server-{port}.log").read_text()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()
