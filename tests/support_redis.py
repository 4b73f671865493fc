"""A private `redis-server` for tests that stop and restart Redis under a running server.

Never the shared Redis of TEST_REDIS_URL: each instance runs on a free port of its own,
without persistence, and can be stopped (SIGTERM, as an operator or a supervisor does) and
started again on the same port, or frozen and thawed.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from tests.support import free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
HAVE_REDIS_SERVER = Path(REDIS_SERVER).exists()


class OwnRedis:
    """A throwaway redis-server that can be stopped and started again on its port."""

    def __init__(self, directory: Path) -> None:
        # Its working directory: whatever redis-server might write stays in a temp dir.
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            REDIS_SERVER,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.directory),
            cwd=self.directory,
            stdout=asyncio.subprocess.DEVNULL,
        )
        client = aioredis.Redis.from_url(self.url, protocol=2)
        try:
            deadline = time.monotonic() + 10
            while True:
                with contextlib.suppress(Exception):
                    if await client.ping():
                        return
                assert time.monotonic() < deadline, "redis-server did not start"
                await asyncio.sleep(0.05)
        finally:
            await client.aclose()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGCONT)  # a frozen one would never stop
            self.process.terminate()
            await self.process.wait()

    def freeze(self) -> None:
        """Hang it (SIGSTOP): connections stay open and nothing answers, like a stalled host."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    async def subscribers(self, channel: str) -> int:
        client = aioredis.Redis.from_url(self.url, protocol=2)
        try:
            counts = await client.pubsub_numsub(channel)
            return int(counts[0][1])
        finally:
            await client.aclose()


@contextlib.asynccontextmanager
async def own_redis_server() -> AsyncIterator[OwnRedis]:
    """A started private redis-server, stopped when the block ends (skips without one)."""
    if not HAVE_REDIS_SERVER:
        pytest.skip("redis-server is not installed")
    with tempfile.TemporaryDirectory(prefix="redis-") as directory:
        redis = OwnRedis(Path(directory))
        await redis.start()
        try:
            yield redis
        finally:
            await redis.stop()
