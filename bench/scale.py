"""Benchmark (run by hand, not a test): does a request cost the same on a big database?

    .venv/bin/python bench/scale.py [--projects 10000] [--seconds 20] [--connections 8]
    .venv/bin/python bench/scale.py --database-url postgres://postgres@127.0.0.1:5432/postgres

For SQLite (temporary files), or PostgreSQL (databases `scale_bench_small` and
`scale_bench` created beside --database-url's and dropped at the end), twice: a small
database holding only the bench client's 60 projects, and a big one with the same 60
spread among --projects (20 milestones and 50 chat messages each, ~1,000 users, 20,000
sessions; bench/scale_seed.py). For each:

1. The server's migrations create the tables (models.db.migrate_database, as server.py
   does on start), then the rows go in in bulk; PostgreSQL is ANALYZEd.
2. Statements: `python server.py` with only the `tortoise.db_client` logger turned to
   DEBUG (MAIL_WORKER=0, so the log holds the requests' statements only) serves each
   request once; every statement it logged is EXPLAINed on the same database, and any full
   scan of a table is reported (tests/support_plans.py).
3. Load: `python server.py` with its defaults plus DATABASE_URL (and MAIL_WORKER=0: the
   seeded rows would give the worker a year's backlog of reminders to send), warmed up, then `wrk`
   for --seconds per request: requests/s, p50/p99, and the server's CPU per request from
   /proc/<pid>/stat (plus its PostgreSQL backends' CPU, when they run on this machine).

Requests, as the bench client (a member of 60 projects): the project page's read path,
and `projects(first: 50)` with what a project list shows. Prints small vs big and their
ratio; exits 1 when any statement reads a whole table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import scale_load
from bench.scale_seed import Seeded, Shape, seed_postgres, seed_sqlite
from bench.servers import server_process
from models.db import migrate_database
from tests.support_plans import parse_message, plan_defects, postgres_plan, sqlite_plan

READ_QUERY = """query($p: ID!) { project(id: $p) { id title completionDate
  milestones { id title description dueDate completed }
  chat(last: 20) { edges { node { id kind body } } } } }"""
LIST_QUERY = """query { projects(first: 50) { totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { id title completionDate milestonesUnlocked viewerCanEditMilestones
    client { id name } freelancer { id name } milestoneProgress { total completed }
    chat(last: 1) { edges { node { body createdAt } } } } } } }"""
# server.py exactly, with one logger turned up: every statement Tortoise sends, with values.
CAPTURE = (
    "import logging, runpy, sys; logging.getLogger('tortoise.db_client').setLevel(logging.DEBUG);"
    " sys.argv[0] = 'server.py'; runpy.run_path('server.py', run_name='__main__')"
)
LOG_PREFIX = " DEBUG tortoise.db_client "
SMALL = Shape(projects=60, heavy_users=1, light_users=1, extra_tokens=10)


class Database:
    """One benchmark database: a SQLite file, or a PostgreSQL database of our own."""

    def __init__(self, name: str, tmp: Path, admin_url: str | None) -> None:
        self.name, self.admin_url = name, admin_url
        if admin_url:
            parts = urlsplit(admin_url)
            self.admin_dsn = urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))
            self.dsn = urlunsplit(("postgresql", parts.netloc, f"/{name}", "", ""))
            self.url = urlunsplit(("postgres", parts.netloc, f"/{name}", "", ""))
        else:
            self.path = tmp / f"{name}.sqlite3"
            self.url = f"sqlite://{self.path}"

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def create(self, shape: Shape) -> Seeded:
        if self.admin_url:
            await self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            await self._admin(f'CREATE DATABASE "{self.name}"')
        await migrate_database(self.url)
        if self.admin_url:
            return await seed_postgres(self.dsn, shape)
        return await asyncio.to_thread(seed_sqlite, str(self.path), shape)

    async def drop(self) -> None:
        if self.admin_url:
            await self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    async def plans(self, statements: list[Any]) -> list[list[str]]:
        if not self.admin_url:
            with sqlite3.connect(self.path) as db:
                return [sqlite_plan(db, s) for s in statements]
        conn = await asyncpg.connect(self.dsn)
        try:
            return [await postgres_plan(conn, s) for s in statements]
        finally:
            await conn.close()


def server_env(db: Database, tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "ID_SECRET")}
    return {**env, "DATABASE_URL": db.url, "MAIL_DIR": str(tmp / "mail"), **extra}


async def bench_project(url: str, token: str) -> str:
    """The bench client's newest project, as the page would be opened from the list."""
    body = await scale_load.check_response(
        url, {"query": "{ projects(first: 1) { edges { node { id } } } }"}, token
    )
    return str(body["data"]["projects"]["edges"][0]["node"]["id"])


async def capture(db: Database, seeded: Seeded, tmp: Path) -> dict[str, list[Any]]:
    """Each request's statements, as the server logged them."""
    log = tmp / f"{db.name}-statements.log"
    env = server_env(db, tmp, MAIL_WORKER="0")
    found: dict[str, list[Any]] = {}
    port = scale_load.free_port()
    async with server_process(env, log, {}, ["-c", CAPTURE], port) as (_, url):
        payloads = await payloads_for(url, seeded.client_token)
        for name, payload in payloads.items():
            start = log.stat().st_size
            await scale_load.check_response(url, payload, seeded.client_token)
            await asyncio.sleep(0.2)  # the log is written from the server's process
            text = log.read_bytes()[start:].decode()
            messages = [
                line.split(LOG_PREFIX, 1)[1] for line in text.splitlines() if LOG_PREFIX in line
            ]
            found[name] = [s for m in messages if (s := parse_message(m))]
    return found


async def payloads_for(url: str, token: str) -> dict[str, dict[str, Any]]:
    project = await bench_project(url, token)
    return {
        "read path": {"query": READ_QUERY, "variables": {"p": project}},
        "projects(first: 50)": {"query": LIST_QUERY},
    }


def condensed(plan: list[str]) -> list[str]:
    """A plan with the repeated arms of a UNION ALL (one per project) counted, not listed:
    lines that differ only in their numbers (aliases, ids, costs) are one line."""
    first: dict[str, str] = {}
    counts: dict[str, int] = {}
    for line in plan:
        key = re.sub(r"\d+", "N", line)
        first.setdefault(key, line)
        counts[key] = counts.get(key, 0) + 1
    return [f"{first[k]}   (x{n})" if n > 1 else first[k] for k, n in counts.items()]


async def print_plans(db: Database, found: dict[str, list[Any]]) -> int:
    """Every statement with its plan; returns how many read a whole table."""
    defects = 0
    for request, statements in found.items():
        print(f"\n  {request}: {len(statements)} statements")
        for statement, plan in zip(statements, await db.plans(statements), strict=True):
            sql = statement.sql if len(statement.sql) <= 300 else statement.sql[:297] + "..."
            print(f"    {sql}")
            for line in condensed(plan):
                print(f"        {line}")
            for bad in plan_defects(plan):
                defects += 1
                print(f"      ! full scan: {bad}")
    return defects


async def load(db: Database, seeded: Seeded, tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    runs: dict[str, scale_load.Run] = {}
    log = tmp / f"{db.name}-server.log"
    pg = (db.admin_dsn, db.name) if db.admin_url else None
    # The delivery worker runs elsewhere (`server.py worker` in a deployment): rows seeded
    # straight into the tables have no reminders settled, and the worker would spend the
    # run arming and sending a year's backlog of them, which no request costs.
    env = server_env(db, tmp, MAIL_WORKER="0")
    port = scale_load.free_port()
    async with server_process(env, log, {}, ["server.py"], port) as (process, url):
        for name, payload in (await payloads_for(url, seeded.client_token)).items():
            script = scale_load.write_script(tmp / "wrk.lua", payload, seeded.client_token)
            runs[name] = await scale_load.measure(
                url, process.pid, script, args.seconds, args.connections, pg
            )
    return runs


def print_table(results: dict[str, dict[str, scale_load.Run]]) -> None:
    print(
        "\nrequest               db      req/s   p50 ms   p99 ms   server CPU ms/req   DB CPU ms/req"
    )
    for name in results["small"]:
        small, big = results["small"][name], results["big"][name]
        for label, run in (("small", small), ("big", big)):
            db_cpu = f"{run.db_cpu_ms:8.2f}" if run.db_cpu_ms is not None else "       -"
            print(f"{name:<21} {label:<6} {run.rps:7.1f} {run.p50_ms:8.1f} {run.p99_ms:8.1f}"
                  f" {run.cpu_ms:13.2f} {db_cpu:>19}")  # fmt: skip
        db_ratio = ""
        if small.db_cpu_ms and big.db_cpu_ms:
            db_ratio = f"{big.db_cpu_ms / small.db_cpu_ms:17.2f}x"
        print(f"{'':<21} {'big/small':<9} {big.rps / small.rps:4.2f}x {'':17}"
              f" {big.cpu_ms / small.cpu_ms:10.2f}x {db_ratio:>19}")  # fmt: skip


async def main(args: argparse.Namespace) -> int:
    defects = 0
    results: dict[str, dict[str, scale_load.Run]] = {}
    counts: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory(prefix="scale_") as tmp_name:
        tmp = Path(tmp_name)
        shapes = {"small": SMALL, "big": Shape(projects=args.projects)}
        for size, shape in shapes.items():
            db = Database(
                "scale_bench" + ("_small" if size == "small" else ""), tmp, args.database_url
            )
            try:
                started = time.monotonic()
                seeded = await db.create(shape)
                print(
                    f"{size}: {shape.projects} projects seeded in {time.monotonic() - started:.1f} s",
                    flush=True,
                )
                found = await capture(db, seeded, tmp)
                counts[size] = {name: len(statements) for name, statements in found.items()}
                if size == "big":  # a planner may read a table of 60 rows whole: rightly
                    defects += await print_plans(db, found)
                results[size] = await load(db, seeded, tmp, args)
            finally:
                await db.drop()
    print_table(results)
    print(f"\nstatements per request, small / big: {counts['small']} / {counts['big']}")
    print(f"\nstatements reading a whole table: {defects}")
    return 1 if defects else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Per-request cost, small vs big database.")
    parser.add_argument("--database-url", help="PostgreSQL admin URL; SQLite when not given")
    parser.add_argument("--projects", type=int, default=10_000, help="projects in the big database")
    parser.add_argument("--seconds", type=float, default=20, help="measured wrk time per request")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    sys.exit(asyncio.run(main(parser.parse_args())))
