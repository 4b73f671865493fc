"""Held notices survive a restart in the middle of a batch, and two server processes on one
database (PostgreSQL, or one SQLite file) send each batch once: real `python server.py` processes with their own
delivery workers, a real SMTP server."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import asyncpg

from tests.support import Account, eventually, free_port
from tests.support_mail import Sink, smtp_server
from tests.support_prefs import add, edit, update_settings
from tests.support_processes import api_for, create_admin, make_team_with, server_process


def worker_env(smtp_port: int, quiet: float) -> dict[str, str]:
    return {
        "MAIL_WORKER": "1",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "MAIL_POLL_SECONDS": "0.05",
        "MAIL_BATCH_QUIET_SECONDS": str(quiet),
        "MAIL_BATCH_MAX_SECONDS": "120",
    }


def batches_to(sink: Sink, client: Account) -> list[str]:
    return [m["Subject"] for m in sink.to(client.email) if "milestone change" in m["Subject"]]


async def test_a_batch_in_the_making_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    url = f"sqlite://{db}"
    # The quiet time does not run out by itself during the restart, however slow the
    # machine: the servers' clock is moved past it once the last change is in.
    quiet = 20.0
    offset_file = tmp_path / "clock-offset"
    offset_file.write_text("0")
    sink = Sink()
    with smtp_server(sink) as smtp:
        env = worker_env(smtp.port, quiet) | {"CLOCK_OFFSET_FILE": str(offset_file)}
        async with server_process(url, "", tmp_path, "first", env) as base, api_for(base) as api:
            admin = await create_admin(api, url, tmp_path)
            team = await make_team_with(api, admin)
            assert (await update_settings(api, team.client, milestoneChanges="BATCHED"))[
                "errors"
            ] == []
            design = await add(api, team.freelancer, team.project_id, "Design")
            await add(api, team.freelancer, team.project_id, "Build")
            await edit(api, team.freelancer, design, title="Design v2")
        # Stopped before the quiet time ran out: nothing sent, everything still held.
        assert batches_to(sink, team.client) == []
        with sqlite3.connect(db) as conn:
            [(held,)] = conn.execute("SELECT count(*) FROM pending_notice").fetchall()
        assert held == 3

        async with server_process(url, "", tmp_path, "second", env) as base, api_for(base) as api:
            await add(api, team.freelancer, team.project_id, "Launch")
            assert batches_to(sink, team.client) == []
            offset_file.write_text(str(quiet + 1))
            await eventually(lambda: _arrived(sink, team.client, 1), within=30)
            await asyncio.sleep(1)  # time for a second e-mail to show up, were there one

    assert batches_to(sink, team.client) == ["3 milestone changes: “Data pipeline audit”"]
    [batch] = [m for m in sink.to(team.client.email) if "milestone change" in m["Subject"]]
    body = batch.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    for line in ("- Added: Design v2,", "- Added: Build,", "- Added: Launch,"):
        assert line in text


async def _arrived(sink: Sink, client: Account, count: int) -> bool:
    return len(batches_to(sink, client)) >= count


async def test_two_processes_on_postgresql_send_each_batch_once(
    postgres_url: str, tmp_path: Path
) -> None:
    await two_processes_send_each_batch_once(postgres_url, tmp_path)


async def test_two_processes_on_sqlite_send_each_batch_once(tmp_path: Path) -> None:
    # One database file, two processes: their workers race for the same batches as well.
    await two_processes_send_each_batch_once(f"sqlite://{tmp_path / 'db.sqlite3'}", tmp_path)


async def two_processes_send_each_batch_once(database_url: str, tmp_path: Path) -> None:
    sink = Sink()
    with smtp_server(sink, free_port()) as smtp:
        env = worker_env(smtp.port, quiet=0.5)
        async with (
            server_process(database_url, "", tmp_path, "one", env) as one,
            server_process(database_url, "", tmp_path, "two", env) as two,
            api_for(one) as api_one,
            api_for(two) as api_two,
        ):
            admin = await create_admin(api_one, database_url, tmp_path)
            teams = [await make_team_with(api_one, admin) for _ in range(6)]
            for n, team in enumerate(teams):
                api = (api_one, api_two)[n % 2]
                assert (await update_settings(api, team.client, milestoneChanges="BATCHED"))[
                    "errors"
                ] == []
                # Changes through both processes, into one batch per client.
                await add(api_one, team.freelancer, team.project_id, "Design")
                await add(api_two, team.freelancer, team.project_id, "Build")
            for team in teams:
                await eventually(lambda team=team: _arrived(sink, team.client, 1), within=30)
            # Both workers have looked many times since (they poll every 0.05 s).
            await asyncio.sleep(2)

    for team in teams:
        assert batches_to(sink, team.client) == ["2 milestone changes: “Data pipeline audit”"]
    pending, batches = await _left_and_sent(database_url)
    assert pending == 0
    assert batches == len(teams)


async def _left_and_sent(database_url: str) -> tuple[int, int]:
    """Notices still held, and batch e-mails written, in the database at `database_url`."""
    pending = "SELECT count(*) FROM pending_notice"
    batches = "SELECT count(*) FROM outbox_email WHERE kind = 'milestone_batch'"
    if database_url.startswith("sqlite://"):
        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite://"))) as db:
            return db.execute(pending).fetchone()[0], db.execute(batches).fetchone()[0]
    conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        return await conn.fetchval(pending), await conn.fetchval(batches)
    finally:
        await conn.close()
