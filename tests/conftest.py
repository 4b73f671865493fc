"""Fixtures: one real server per database backend, shared by the tests that use it.

The whole suite runs against SQLite, and again against PostgreSQL when TEST_DATABASE_URL
is set (a fresh database is created for the run and dropped after it).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from settings import Settings
from tests.support import Api, RunningServer, backends, fresh_postgres_database, running_server


@pytest.fixture(scope="session", params=backends())
async def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningServer]:
    mail_dir = tmp_path_factory.mktemp(f"mail-{request.param}")
    if request.param == "postgres":
        async with fresh_postgres_database(os.environ["TEST_DATABASE_URL"]) as url:
            # The delivery worker is left off: tests that deliver start their own.
            settings = Settings(database_url=url, mail_dir=mail_dir, run_mail_worker=False)
            async with running_server(settings) as running:
                yield running
    else:
        db = Path(tmp_path_factory.mktemp("db")) / "test.sqlite3"
        settings = Settings(database_url=f"sqlite://{db}", mail_dir=mail_dir, run_mail_worker=False)
        async with running_server(settings) as running:
            yield running


@pytest.fixture
async def api(server: RunningServer) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        yield Api(client)
