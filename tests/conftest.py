"""Fixtures: one real server per database backend, shared by the tests that use it.

The whole suite runs against SQLite, and again against PostgreSQL when TEST_DATABASE_URL
is set (a fresh database is created for the run and dropped after it). Tests that need
Redis or a database of their own (server processes) use `reachable_redis` and
`postgres_url`: skipped without TEST_REDIS_URL / TEST_DATABASE_URL, failing (not skipped)
when those are set but the services cannot be reached.

The suite runs in parallel (pytest-xdist, `addopts` in pyproject.toml): each worker process
has its own server, its own SQLite file and PostgreSQL database, and its own Redis database
(TEST_REDIS_URL's plus the worker's number), so no worker sees another's keys. Tests that
cannot share the machine with each other carry one `xdist_group` mark and run on one worker.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import redis.asyncio as aioredis

from settings import Settings
from tests.support import (
    SUITE_RATE_LIMITS,
    Api,
    RunningServer,
    backends,
    fresh_postgres_database,
    running_server,
)
from tests.support_ws import reset_subscriber_baseline

# Beyond this many workers, start-up (a server each) costs more than it saves.
MAX_WORKERS = 8
# Test folders whose tests run on one worker, in one group each: one Chromium serves them.
SERIAL_FOLDERS = {"browser": "browser"}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: two workers per core, as most tests wait on sockets, not on the CPU."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(2 * (cores or 1), MAX_WORKERS))


def pytest_configure(config: pytest.Config) -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw3" in a worker, unset with -n 0
    url = os.environ.get("TEST_REDIS_URL")
    if url and worker.startswith("gw"):
        os.environ["TEST_REDIS_URL"] = redis_database_for(url, int(worker[2:]))


def redis_database_for(url: str, worker: int) -> str:
    """`url` with its database number moved up by `worker` (Redis has 16 by default)."""
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{base + worker}"))


@pytest.hookimpl(tryfirst=True)  # before xdist reads the marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tests = Path(__file__).parent
    for item in items:
        if not item.path.is_relative_to(tests):
            continue
        folder = item.path.relative_to(tests).parts[0]
        if folder in SERIAL_FOLDERS:
            item.add_marker(pytest.mark.xdist_group(SERIAL_FOLDERS[folder]))


@pytest.hookimpl(tryfirst=True)  # before xdist sends the list; after pytest's own ordering
def pytest_collection_finish(session: pytest.Session) -> None:
    """In parallel, hand out `long` tests first: started last, one would keep its worker busy
    after the others are done. Every worker sorts alike, so they all collect the same list."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        session.items.sort(key=lambda item: item.get_closest_marker("long") is None)


@pytest.fixture(scope="session", params=backends())
async def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningServer]:
    mail_dir = tmp_path_factory.mktemp(f"mail-{request.param}")
    if request.param == "postgres":
        async with fresh_postgres_database(os.environ["TEST_DATABASE_URL"]) as url:
            # The delivery worker is left off: tests that deliver start their own.
            settings = Settings(
                database_url=url,
                mail_dir=mail_dir,
                run_mail_worker=False,
                rate_limits=SUITE_RATE_LIMITS,
            )
            async with running_server(settings) as running:
                yield running
    else:
        db = Path(tmp_path_factory.mktemp("db")) / "test.sqlite3"
        settings = Settings(
            database_url=f"sqlite://{db}",
            mail_dir=mail_dir,
            run_mail_worker=False,
            rate_limits=SUITE_RATE_LIMITS,
        )
        async with running_server(settings) as running:
            yield running


@pytest.fixture
async def api(server: RunningServer) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        yield Api(client)


@pytest.fixture
def subscriber_baseline() -> None:
    """Start counting the in-process hub's subscribers afresh (see `wait_for_subscribers`)."""
    reset_subscriber_baseline()


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
    """A fresh, empty PostgreSQL database beside TEST_DATABASE_URL's, for server processes."""
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if not admin_url:
        pytest.skip("TEST_DATABASE_URL is not set")
    async with fresh_postgres_database(admin_url) as url:
        yield url
