"""Server subprocesses for the benchmarks in this folder, and the database each one runs on.

`serve` runs any server command and waits for /readyz (bench/scale.py); `server_process`
runs `python server.py` from an event loop, as an operator does, and stops it with SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.support import free_port, fresh_postgres_database

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
START_TIMEOUT = 30.0
HEALTHY_TIMEOUT = 60.0  # for `server_process`: a server with thousands of sockets to come
STOP_TIMEOUT = 30.0


class ServerError(RuntimeError):
    """A server did not start; the benchmark cannot go on."""


def _ready(port: int) -> bool:
    """Whether the server answers /readyz with 200: it listens before it has migrated."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/readyz", timeout=1) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    url: str


@contextlib.contextmanager
def serve(
    name: str, argv: list[str], env: dict[str, str], port: int, log: Path
) -> Iterator[Server]:
    """Run one server subprocess until the block ends; wait for its port to accept."""
    with log.open("ab") as log_file:
        proc = subprocess.Popen(
            [sys.executable, *argv, "--host", HOST, "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited during start-up; see {log}")
            if _ready(port):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start within {START_TIMEOUT}s; see {log}")
            time.sleep(0.05)
        yield Server(name, proc, f"http://{HOST}:{port}")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


@contextlib.asynccontextmanager
async def server_process(
    env: dict[str, str], log: Path, outcome: dict[str, Any], script: str = "server.py"
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """`python server.py` until the block ends, then SIGTERM; yields it and its base URL.

    `outcome` gets how it stopped: "status", "seconds" and, when it had to be killed after
    STOP_TIMEOUT, "killed".
    """
    port = free_port()
    with log.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable, script, "--host", HOST, "--port", str(port),
            cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=log_file, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://{HOST}:{port}"
    try:
        await _until_healthy(process, url, log)
        yield process, url
    finally:
        if process.returncode is None:
            await _stop(process, outcome)
        outcome["status"] = process.returncode


async def _until_healthy(process: asyncio.subprocess.Process, url: str, log: Path) -> None:
    async with httpx.AsyncClient() as http:
        deadline = time.monotonic() + HEALTHY_TIMEOUT
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{url}/healthz")).status_code == 200:
                    return
            if process.returncode is not None:
                raise ServerError(f"the server exited during start-up; see {log}")
            if time.monotonic() > deadline:
                raise ServerError(f"the server was not healthy within {HEALTHY_TIMEOUT:.0f} s")
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
