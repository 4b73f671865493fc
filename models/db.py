"""Database configuration and schema migration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tortoise import Tortoise
from tortoise.migrations.api import migrate


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise config for one database; the schema comes from models.migrations."""
    return {
        "connections": {"default": database_url},
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
    await migrate(config=tortoise_config(database_url))
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
