"""Fixtures: one real server per database backend, shared by the tests that use it.

The whole suite runs against SQLite, and again against PostgreSQL when TEST_DATABASE_URL
is set (a fresh database is created for the run and dropped after it). Tests that need
Redis or a database of their own (server processes) use `reachable_redis` and
`postgres_url`: skipped without TEST_REDIS_URL / TEST_DATABASE_URL, failing (not skipped)
when those are set but the services cannot be reached.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

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
