"""The SQL a request issues, and whether each statement's plan uses an index.

Statements come from Tortoise's own debug log (`tortoise.db_client`: "<sql>: <values>"),
so nothing of the project is replaced to see them. Plans come from `EXPLAIN QUERY PLAN`
(SQLite) or `EXPLAIN` (PostgreSQL) of the same statement with the same values.

A defect is a full scan of a table that grows with the platform (a SQLite `SCAN` of a table
rather than of a subquery's result; a PostgreSQL `Seq Scan`), which makes a request's cost
grow with the database instead of with what it returns.
"""

from __future__ import annotations

import ast
import asyncio
import datetime as dt
import logging
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import asyncpg

# Tables of a fixed handful of rows, which any plan may read whole.
FIXED_TABLES = ("server_secret", "tortoise_migrations")
DB_LOGGER = "tortoise.db_client"
_VERBS = ("SELECT", "UPDATE", "DELETE", "INSERT", "WITH")
_MESSAGE = re.compile(r"^(?P<sql>.*?): (?P<values>None|\[.*\])$", re.DOTALL)
# The names a logged value may be built from: Tortoise logs datetimes by their repr.
_CALLABLES: dict[str, Any] = {
    "datetime.datetime": dt.datetime,
    "datetime.date": dt.date,
    "datetime.timedelta": dt.timedelta,
    "datetime.timezone": dt.timezone,
}


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    values: list[Any] | None  # None: logged without values, or values we could not read
    task: str = ""  # the asyncio task that issued it, when captured in this process


def parse_message(message: str) -> Statement | None:
    """One `tortoise.db_client` message as a statement; None for BEGIN, PRAGMA and the like."""
    found = _MESSAGE.match(message.strip())
    sql, values_text = (found["sql"], found["values"]) if found else (message.strip(), "None")
    if not sql.lstrip().upper().startswith(_VERBS):
        return None
    try:
        values = _literal(ast.parse(values_text, mode="eval").body)
    except (ValueError, SyntaxError):
        values = None
    return Statement(sql, values)


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    raise ValueError("not a name")


def _literal(node: ast.expr) -> Any:
    """A logged value list back as Python values: literals, and datetime constructors only."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List | ast.Tuple):
        return [_literal(item) for item in node.elts]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_literal(node.operand)
    if isinstance(node, ast.Attribute) and _dotted(node) == "datetime.timezone.utc":
        return dt.UTC
    if isinstance(node, ast.Call) and _dotted(node.func) in _CALLABLES:
        args = [_literal(a) for a in node.args]
        kwargs = {k.arg: _literal(k.value) for k in node.keywords if k.arg}
        return _CALLABLES[_dotted(node.func)](*args, **kwargs)
    raise ValueError(f"unexpected value in the log: {ast.dump(node)}")


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[Statement] = []

    def emit(self, record: logging.LogRecord) -> None:
        statement = parse_message(record.getMessage())
        if statement is not None:
            task = asyncio.current_task() if _in_event_loop() else None
            self.statements.append(replace(statement, task=task.get_name() if task else ""))


@contextmanager
def captured_statements() -> Iterator[list[Statement]]:
    """The statements this process's Tortoise issues while the block runs."""
    logger, collector = logging.getLogger(DB_LOGGER), _Collector()
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(collector)
    try:
        yield collector.statements
    finally:
        logger.removeHandler(collector)
        logger.setLevel(previous)


def sqlite_plan(db: sqlite3.Connection, statement: Statement) -> list[str]:
    """EXPLAIN QUERY PLAN lines, indented by depth. Without values every parameter is NULL:
    SQLite chooses a plan from the statement's shape, not from the bound values."""
    sql = f"EXPLAIN QUERY PLAN {statement.sql}"
    values = statement.values
    if values is None:
        values = [None] * sql.count("?")
    rows = db.execute(sql, [_sqlite_value(v) for v in values]).fetchall()
    depth: dict[int, int] = {0: -1}
    lines = []
    for node_id, parent, _, detail in rows:
        depth[node_id] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node_id] + str(detail))
    return lines


def _sqlite_value(value: Any) -> Any:
    return str(value) if isinstance(value, dt.datetime | dt.date) else value


async def postgres_plan(conn: asyncpg.Connection, statement: Statement) -> list[str]:
    """EXPLAIN lines (never EXPLAIN ANALYZE: nothing is executed, writes included)."""
    rows = await conn.fetch(f"EXPLAIN {statement.sql}", *(statement.values or []))
    return [str(row[0]) for row in rows]


def plan_defects(plan: list[str]) -> list[str]:
    """The lines of a plan (either backend) that read a whole growing table."""
    # SQLite prints `SCAN name` both for tables and for the result of a subquery it runs
    # as a co-routine or materialises first; only the former reads a table.
    subqueries = {
        m[1] for line in plan if (m := re.search(r"(?:CO-ROUTINE|MATERIALIZE) (\w+)", line))
    }
    defects = []
    for line in plan:
        scan = re.search(r"\bSCAN (\w+)", line) or re.search(r"Seq Scan on (\w+)", line)
        if scan and scan[1] not in (*subqueries, *FIXED_TABLES, "CONSTANT"):
            defects.append(line.strip())
    return defects
