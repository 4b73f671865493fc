"""Two `python server.py` processes, each with its delivery worker, on one PostgreSQL
database: each reminder is sent once. Their clock is moved through CLOCK_OFFSET_FILE.

Needs TEST_DATABASE_URL: skipped without it, failing when it is set but unreachable.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.support import eventually, future
from tests.support_deadlines import ZONE_PROJECT
from tests.support_mail import Sink, clocked_mail_env, smtp_server, stand_clock
from tests.support_processes import api_for, create_admin, make_team_with, server_process


async def test_two_processes_send_each_reminder_once(postgres_url: str, tmp_path: Path) -> None:
    offset_file = tmp_path / "clock-offset"
    offset_file.write_text("0")
    sink = Sink()
    with smtp_server(sink) as controller:
        env = clocked_mail_env(controller.port, offset_file)
        async with (
            server_process(postgres_url, "", tmp_path, "a", env) as url_a,
            server_process(postgres_url, "", tmp_path, "b", env) as url_b,
            api_for(url_a) as api_a,
            api_for(url_b) as api_b,
        ):
            admin = await create_admin(api_a, postgres_url, tmp_path)
            team = await make_team_with(api_a, admin)
            zone = {"input": {"projectId": team.project_id, "timeZone": "Asia/Tokyo"}}
            await api_b.data(ZONE_PROJECT, zone, team.client.token)
            due = dt.date.fromisoformat(future(10))
            added = await api_b.add_milestone(team.freelancer, team.project_id, "Audit", str(due))
            assert added["errors"] == [], added
            freelancer, client = team.freelancer.email, team.client.email
            await eventually(lambda: _has(sink, freelancer, 1))  # the unlock e-mail

            # 09:00 in Tokyo the day before (UTC+9, no daylight saving): 00:00 UTC.
            day_before = dt.datetime.combine(due, dt.time(0), tzinfo=dt.UTC)
            stand_clock(offset_file, day_before - dt.timedelta(days=1) - dt.timedelta(seconds=1))
            await eventually(lambda: _has(sink, freelancer, 2))
            stand_clock(offset_file, day_before + dt.timedelta(days=1) - dt.timedelta(seconds=1))
            await eventually(lambda: _has(sink, client, 2))  # added, overdue
            await eventually(lambda: _has(sink, freelancer, 3))
            # Both workers have passed over every reminder since (they look five times a
            # second); a duplicate would be in by now.
            for _ in range(10):
                await api_a.data("{ __typename }")
            await eventually(lambda: _has(sink, freelancer, 3), within=2)

    subjects = [m["Subject"] for m in sink.to(freelancer)]
    assert subjects[1:] == ["Due tomorrow: “Audit”", "Overdue: “Audit”"]
    assert [m["Subject"] for m in sink.to(client)][1:] == ["Overdue: “Audit”"]


async def _has(sink: Sink, address: str, count: int) -> bool:
    return len(sink.to(address)) == count
