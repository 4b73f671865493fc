"""Reads on every request's path, without Tortoise's query builder.

- Read-only rows for the lists a page shows: a project's milestones, a page of its chat.
- `first_where`: one model by one column (a token by its hash, a project by its key).

Tortoise builds each query anew (about 0.1 ms for a lookup by key, more with a join); the
SQL of these reads never changes, so it is written once here.

A Tortoise model instance costs several microseconds to build from a row (every column
converted, then set through `Model.__setattr__`); a page of 50 milestones and 20 chat
messages spent more time building them than the database spent finding the rows. These
rows hold the same columns, converted by the same fields (so a timestamp or a date reads
exactly as on the model), and nothing else: they are never saved. Changes go through the
models, under the project lock (infra/unit_of_work.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Generic, TypeVar

from tortoise.models import Model

from frameworks import tortoise
from frameworks.fast_paths import ROW_LOOKUP
from models.chat import ChatEventKind, ChatMessage, FieldChange
from models.project import Milestone, MilestoneState, milestone_state


@dataclass(frozen=True, slots=True)
class MilestoneRow:
    """A milestone as read for a list; the columns of `Milestone`."""

    id: int
    project_id: int
    title: str
    description: str
    due_date: dt.date
    completed_at: dt.datetime | None
    completed_by_id: int | None
    accepted_at: dt.datetime | None
    accepted_by_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def state(self) -> MilestoneState:
        return milestone_state(self.completed_at, self.accepted_at)


@dataclass(frozen=True, slots=True)
class ChatMessageRow:
    """A chat message as read for a page; the columns of `ChatMessage`."""

    id: int
    project_id: int
    kind: ChatEventKind
    body: str
    author_id: int | None
    actor_id: int | None
    milestone_id: int | None
    changes: Any
    created_at: dt.datetime

    @property
    def field_changes(self) -> list[FieldChange]:
        return FieldChange.list_from_json(self.changes)


R = TypeVar("R", MilestoneRow, ChatMessageRow)
M = TypeVar("M", bound=Model)
# How each database driver marks the first bound parameter.
_PARAMETER = {"postgres": "$1"}


async def first_where(model: type[M], column: str, value: object) -> M | None:
    """The `model` row whose `column` equals `value` (a unique column), or None."""
    if not ROW_LOOKUP.on:
        return await model.filter(**{column: value}).first()
    db = tortoise.connection(model)
    parameter = _PARAMETER.get(db.capabilities.dialect, "?")
    sql = f'SELECT * FROM "{tortoise.table(model)}" WHERE "{column}" = {parameter} LIMIT 1'
    rows = await db.execute_query_dict(sql, [value])
    ROW_LOOKUP.runs += 1
    return tortoise.from_row(model, rows[0]) if rows else None


class RowReader(Generic[R]):
    """Reads rows of one kind: the SELECT list and each column's conversion, made once."""

    def __init__(self, row_class: type[R], model: type[Model]) -> None:
        self.row_class: type[R] = row_class
        self.model = model
        self.names = [f.name for f in fields(row_class)]
        self.columns = ", ".join(f'"{name}"' for name in self.names)
        # Looked up on first use: Tortoise adds the key columns of foreign keys at init.
        self._converters: list[tuple[str, Callable[[Any], Any]]] = []

    def select(self) -> str:
        """The start of a SELECT of these columns, in this order, from the model's table."""
        return f'SELECT {self.columns} FROM "{tortoise.table(self.model)}"'

    async def fetch(self, sql: str) -> list[R]:
        """The rows `sql` (which begins with `select()`) returns, converted."""
        # The model's connection, as its own queries use: inside a transaction, that one.
        _, records = await tortoise.connection(self.model).execute_query(sql)
        if not self._converters:
            model = self.model
            self._converters = [(n, tortoise.column_converter(model, n)) for n in self.names]
        return [self._build(record) for record in records]

    def _build(self, record: Mapping[str, Any]) -> R:
        # By name: SQLite's rows and asyncpg's records both read that way.
        return self.row_class(*[convert(record[name]) for name, convert in self._converters])


MILESTONE_ROWS = RowReader(MilestoneRow, Milestone)
CHAT_MESSAGE_ROWS = RowReader(ChatMessageRow, ChatMessage)
