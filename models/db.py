"""Database configuration and schema migration.

PostgreSQL connections are bounded in time: opening one gives up after CONNECT_TIMEOUT_SECONDS
and a statement after COMMAND_TIMEOUT_SECONDS, so that a database that is down, or that stops
answering, makes requests fail within seconds instead of hanging. The asyncpg pool replaces a
connection that the server closed (a restart) at its next use, so nothing needs restarting
once the database is back. Parameters in DATABASE_URL (`?timeout=`, `?command_timeout=`) win
over these defaults.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.exceptions import DBConnectionError
from tortoise.migrations.api import migrate

# Opening a connection: a healthy server on the same network answers in milliseconds; one
# that accepts TCP but never completes the start-up (frozen, overloaded) must not hold a
# request for asyncpg's default of a minute.
CONNECT_TIMEOUT_SECONDS = 5
# One statement: as long as a whole request may run (REQUEST_TIMEOUT_SECONDS, 10 s unless
# set), so it never stops one that a request is still waiting for; it bounds what has no
# budget of its own (the delivery worker, chat feeds, reading a request's session).
COMMAND_TIMEOUT_SECONDS = 10.0

# What the driver raises when the database cannot be reached or went away mid-statement:
# refused or timed out (OSError, TimeoutError among them), the connection lost (class 08),
# the server shutting down or starting up (class 57), a connection whose server said goodbye
# just as a statement started on it (InternalClientError: seen when PostgreSQL stops under
# load), or Tortoise failing to open its pool.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    DBConnectionError,
)


def _connection(database_url: str, *, command_timeout: float | None) -> str | dict[str, Any]:
    """The Tortoise connection for `database_url`: PostgreSQL with its time bounds."""
    expanded = expand_db_url(database_url)
    if expanded["engine"] != "tortoise.backends.asyncpg":
        return database_url  # SQLite: a local file, with no server to wait for
    credentials: dict[str, Any] = expanded["credentials"]
    credentials.setdefault("timeout", CONNECT_TIMEOUT_SECONDS)
    if command_timeout is not None:
        credentials.setdefault("command_timeout", command_timeout)
    return expanded


def tortoise_config(
    database_url: str, *, command_timeout: float | None = COMMAND_TIMEOUT_SECONDS
) -> dict[str, Any]:
    """The Tortoise config for one database; the schema comes from models.migrations.

    `command_timeout=None` lifts the per-statement bound (migrations may rewrite big tables);
    connecting stays bounded.
    """
    return {
        "connections": {"default": _connection(database_url, command_timeout=command_timeout)},
        "apps": {
            "models": {
                "models": ["models"],
                "migrations": "models.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def migrate_database(database_url: str) -> None:
    """Bring the schema of `database_url` up to date with the committed migrations.

    Leaves no connection open: callers then initialise Tortoise their own way.
    """
    await migrate(config=tortoise_config(database_url, command_timeout=None))
    await Tortoise.close_connections()


@asynccontextmanager
async def open_database(database_url: str) -> AsyncIterator[None]:
    """Migrate, then use the database through Tortoise until the block ends (commands)."""
    await migrate_database(database_url)
    await Tortoise.init(config=tortoise_config(database_url))
    try:
        yield
    finally:
        await Tortoise.close_connections()
