"""What of Tortoise ORM the API's hand-written reads (models/rows.py) rely on beyond its
published API.

Tortoise keeps a model's table, fields and current connection in `Model._meta` (a
`MetaInfo`, every 0.x and 1.x release); `_meta.db` is the connection the model's own
queries use, inside a transaction that transaction's. `Model._init_from_db(**row)` builds
an instance from a row as Tortoise's own raw queries do (converting each column). Tested
with tortoise-orm 1.1 (`frameworks.fast_paths.TORTOISE`); outside it the version check
turns ROW_LOOKUP off (one row by a column through a query set instead). The row readers
have no public twin: a change there fails every test that reads a page of milestones.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

M = TypeVar("M", bound=Model)


def connection(model: type[Model]) -> BaseDBAsyncClient:
    """The connection `model`'s queries use now (a transaction's, inside one)."""
    return model._meta.db


def table(model: type[Model]) -> str:
    return model._meta.db_table


def column_converter(model: type[Model], name: str) -> Any:
    """The function turning column `name`'s database value into the model's Python value."""
    return model._meta.fields_map[name].to_python_value


def from_row(model: type[M], row: dict[str, Any]) -> M:
    """A `model` instance from a `SELECT *` row, as Tortoise's raw queries build it."""
    return cast(M, model._init_from_db(**row))
