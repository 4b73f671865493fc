"""Server subprocesses for the benchmarks in this folder, started and stopped as an operator
does (`python server.py`, SIGTERM), and the database each one runs on."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.support import free_port, fresh_postgres_database

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


class ServerError(RuntimeError):
    """A server did not start; the benchmark cannot go on."""


@contextlib.asynccontextmanager
async def server_process(
    env: dict[str, str],
    log: Path,
    outcome: dict[str, Any],
    argv: Sequence[str] = ("server.py",),
    port: int | None = None,
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """`python server.py` (or `python <argv>`) until the block ends, then SIGTERM; yields
    the process once it is ready, and its base URL.

    `outcome` gets how it stopped: "status", "seconds" and, when it had to be killed after
    STOP_TIMEOUT, "killed".
    """
    port = port or free_port()
    with log.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *argv, "--host", HOST, "--port", str(port),
            cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=log_file, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://{HOST}:{port}"
    try:
        await _until_ready(process, url, log)
        yield process, url
    finally:
        if process.returncode is None:
            await _stop(process, outcome)
        outcome["status"] = process.returncode


async def _until_ready(process: asyncio.subprocess.Process, url: str, log: Path) -> None:
    """Until /readyz answers 200: the server listens before it has migrated."""
    async with httpx.AsyncClient() as http:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{url}/readyz")).status_code == 200:
                    return
            if process.returncode is not None:
                raise ServerError(f"the server exited during start-up; see {log}")
            if time.monotonic() > deadline:
                raise ServerError(f"the server was not ready within {START_TIMEOUT:.0f} s")
            await asyncio.sleep(0.1)


async def _stop(process: asyncio.subprocess.Process, outcome: dict[str, Any]) -> None:
    """SIGTERM, as an operator stops it; killed if it has not exited within STOP_TIMEOUT."""
    stopping = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        outcome["killed"] = True
    outcome["seconds"] = time.monotonic() - stopping


@contextlib.asynccontextmanager
async def database(url: str, tmp: Path, name: str) -> AsyncIterator[str]:
    """A fresh database beside a postgres:// `url` (dropped after), else `url`, else a
    SQLite file `name` in `tmp`."""
    if url.startswith("postgres"):
        async with fresh_postgres_database(url) as fresh:
            yield fresh
    else:
        yield url or f"sqlite://{tmp / name}"
