"""Database configuration and schema migration."""

from __future__ import annotations

from typing import Any

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
    """Bring the schema of `database_url` up to date with the committed migrations."""
    await migrate(config=tortoise_config(database_url))
