"""Every statement a request issues is served by an index, so its cost does not grow with the
database: the statements the server really sends (Tortoise's own log), EXPLAINed on SQLite.

SQLite chooses plans from a statement's shape and the schema (the server never runs
ANALYZE), so a handful of rows shows the plan a big database gets too; PostgreSQL's plans
depend on table statistics, and bench/scale.py shows them on a seeded database.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from typing import Any

import pytest

from tests.support import ROOT, Api, RunningServer, Team, make_team
from tests.support_plans import Statement, captured_statements, plan_defects, sqlite_plan

READ = """query($p: ID!, $before: String) { project(id: $p) { id title completionDate
  milestones { id title dueDate completed state acceptedAt autoAcceptAt acceptedBy { name }
    changeRequests { reason createdAt requestedBy { name } } }
  milestoneProgress { total completed }
  chat(last: 2, before: $before) { edges { cursor node { id kind body } } } } }"""
LIST = """query($after: String) { projects(first: 50, after: $after) { totalCount
  pageInfo { hasPreviousPage } edges { cursor node { id title client { name }
  freelancer { name } milestoneProgress { total } chat(last: 1) { edges { node { body } } } } } } }"""
# The background task that deletes expired sessions now and then; not part of a request.
SWEEPER = "session-sweeper"
# Parent tables the server deletes rows of (deleteMilestone; logOut and the expiry purge).
# Users and projects are never deleted. A foreign key into these needs an index, or the
# delete's ON DELETE action reads the whole child table; plans do not show those reads.
DELETED_PARENTS = ("milestone", "access_token")


@pytest.fixture
def sqlite_path(server: RunningServer) -> str:
    url = server.settings.database_url
    if not url.startswith("sqlite://"):
        pytest.skip("plans are checked on SQLite; bench/scale.py shows PostgreSQL's")
    return url.removeprefix("sqlite://")


TICK = (
    "mutation($i: SetMilestoneCompletedInput!) { setMilestoneCompleted(input: $i) "
    "{ errors { code } } }"
)


async def _review(api: Api, team: Team, milestone_id: str) -> None:
    """Tick, send back, tick again and accept: the client's word on finished work."""
    ops: list[tuple[str, dict[str, Any], str]] = [
        (TICK, {"i": {"id": milestone_id, "completed": True}}, team.freelancer.token),
        ("mutation($i: RequestMilestoneChangesInput!) { requestMilestoneChanges(input: $i) "
         "{ errors { code } } }", {"i": {"milestoneId": milestone_id, "reason": "Labels."}},
         team.client.token),
        (TICK, {"i": {"id": milestone_id, "completed": True}}, team.freelancer.token),
        ("mutation($i: AcceptMilestoneInput!) { acceptMilestone(input: $i) { errors { code } } }",
         {"i": {"milestoneId": milestone_id}}, team.client.token),
    ]  # fmt: skip
    for query, variables, token in ops:
        assert (await api.data(query, variables, token)) is not None


async def _mutate(api: Api, team: Team, milestone_id: str) -> None:
    ops: list[tuple[str, dict[str, Any], str]] = [
        ("mutation($i: SendChatMessageInput!) { sendChatMessage(input: $i) { errors { code } } }",
         {"i": {"projectId": team.project_id, "body": "Plans?"}}, team.client.token),
        ("mutation($i: SetMilestoneCompletedInput!) { setMilestoneCompleted(input: $i) "
         "{ errors { code } } }", {"i": {"id": milestone_id, "completed": True}},
         team.freelancer.token),
        ("mutation($i: DeleteMilestoneInput!) { deleteMilestone(input: $i) { errors { code } } }",
         {"i": {"id": milestone_id}}, team.freelancer.token),
        ("mutation { logOutEverywhere }", {}, team.outsider.token),
    ]  # fmt: skip
    for query, variables, token in ops:
        await api.data(query, variables, token)


async def _requests(api: Api, team: Team) -> list[Statement]:
    """Statements of reads (a chat page with and without a cursor) and of each change."""
    added = [await api.add_milestone(team.freelancer, team.project_id, f"M{n}") for n in range(3)]
    for n in range(3):
        await api.data(
            "mutation($i: SendChatMessageInput!) { sendChatMessage(input: $i) { errors { code } } }",
            {"i": {"projectId": team.project_id, "body": f"Hello {n}"}},
            team.client.token,
        )
    with captured_statements() as statements:
        await _review(api, team, added[1]["milestone"]["id"])
        page = await api.data(READ, {"p": team.project_id}, team.client.token)
        cursor = page["project"]["chat"]["edges"][0]["cursor"]
        await api.data(READ, {"p": team.project_id, "before": cursor}, team.freelancer.token)
        listed = await api.data(LIST, None, team.client.token)
        after = listed["projects"]["edges"][0]["cursor"]
        await api.data(LIST, {"after": after}, team.client.token)
        await _mutate(api, team, added[0]["milestone"]["id"])
    return [s for s in statements if s.task != SWEEPER]


async def test_every_statement_of_a_request_uses_an_index(api: Api, sqlite_path: str) -> None:
    team = await make_team(api)
    statements = await _requests(api, team)
    assert any("chat_message" in s.sql for s in statements), statements  # the log was read
    with sqlite3.connect(sqlite_path) as db:
        found = {s.sql: plan_defects(sqlite_plan(db, s)) for s in statements}
    assert {sql: bad for sql, bad in found.items() if bad} == {}


def _unindexed_foreign_keys(db: sqlite3.Connection) -> list[str]:
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    missing = []
    for table in tables:
        leading = {
            db.execute(f'PRAGMA index_info("{index[1]}")').fetchone()[2]
            for index in db.execute(f'PRAGMA index_list("{table}")')
        }
        for fk in db.execute(f'PRAGMA foreign_key_list("{table}")'):
            if fk[2] in DELETED_PARENTS and fk[3] not in leading:
                missing.append(f"{table}.{fk[3]} -> {fk[2]}")
    return missing


async def test_foreign_keys_into_deleted_tables_are_indexed(sqlite_path: str) -> None:
    with sqlite3.connect(sqlite_path) as db:
        assert _unindexed_foreign_keys(db) == []


async def test_models_and_migrations_agree() -> None:
    """The models' indexes are the migrations' (a new index in one only is a mistake)."""
    # In a process of its own: it initialises Tortoise, which the suite's servers share here.
    script = (
        "import asyncio\n"
        "from tortoise import Tortoise\n"
        "from tortoise.migrations.autodetector import MigrationAutodetector\n"
        "from models.db import tortoise_config\n"
        "async def main():\n"
        "    config = tortoise_config('sqlite://:memory:')\n"
        "    await Tortoise.init(config=config)\n"
        "    changes = await MigrationAutodetector(Tortoise.apps, config['apps']).changes()\n"
        "    print([op.describe() for w in changes for op in w.operations])\n"
        "    await Tortoise.close_connections()\n"
        "asyncio.run(main())\n"
    )
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout
