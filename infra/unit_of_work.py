"""One transaction per change, with its chat events published only after it commits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from tortoise.transactions import in_transaction

from infra import events
from models import ChatMessage, Project


@dataclass(slots=True)
class UnitOfWork:
    """What a change posted; read after commit to publish it."""

    posted: list[ChatMessage] = field(default_factory=list)

    async def lock_project(self, project_id: int) -> Project:
        """Lock the project row until commit.

        Every transaction that posts to a project's chat takes this lock first, so the chat's
        ids are assigned, and its events committed, in one order (PostgreSQL; SQLite
        serialises writers anyway). Subscribers rely on that order.
        """
        return await Project.select_for_update().get(id=project_id)


@asynccontextmanager
async def atomic() -> AsyncIterator[UnitOfWork]:
    """Run a change in one transaction; publish its chat events once it has committed."""
    work = UnitOfWork()
    async with in_transaction():
        yield work
    for message in work.posted:
        await events.publish(message.project_id, message.id)
