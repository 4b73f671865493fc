"""Two `python server.py` processes, each with its delivery worker, on one database
(PostgreSQL, and SQLite): a milestone left unanswered is reminded of once and accepted once.
Their clock is moved through CLOCK_OFFSET_FILE.

The PostgreSQL run needs TEST_DATABASE_URL: skipped without it, failing when it is set but
unreachable.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import Account, Api, Team, eventually
from tests.support_deadlines import ZONE_PROJECT
from tests.support_mail import Sink, clocked_mail_env, smtp_server, stand_clock
from tests.support_prefs import complete, update_settings
from tests.support_processes import api_for, create_admin, make_team_with, server_process

PUBLIC_URL = "https://milestones.example.com"
ZONE = "Asia/Tokyo"
DAY = dt.timedelta(days=1)
ACCEPT = """mutation($input: AcceptMilestoneInput!) {
  acceptMilestone(input: $input) { errors { code } } }"""
STATE = """query($id: ID!) { node(id: $id) { ... on Milestone {
  state acceptedBy { id } autoAcceptAt } } }"""
CHAT = """query($id: ID!) { project(id: $id) { chat(last: 50) { edges { node {
  kind actor { id } milestone { id } } } } } }"""


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite://{tmp_path / 'db.sqlite3'}"


async def test_two_processes_remind_and_accept_once(database_url: str, tmp_path: Path) -> None:
    offset_file = tmp_path / "clock-offset"
    offset_file.write_text("0")
    sink = Sink()
    with smtp_server(sink) as controller:
        env = clocked_mail_env(controller.port, offset_file) | {
            "PUBLIC_URL": PUBLIC_URL,
        }
        # The set-up's requests go to one process: SQLite serialises writers, and a
        # request's transaction may meet the other process's worker (operators run one
        # process on SQLite); the workers' passes that fail so are retried.
        async with (
            server_process(database_url, "", tmp_path, "a", env) as url_a,
            api_for(url_a) as api_a,
        ):
            scene = await set_up(api_a, database_url, tmp_path)
            team, muted = scene.team, scene.muted
            freelancer, client = team.freelancer.email, team.client.email
            # The unlock and "Control accepted" e-mails are in: the worker is running.
            await eventually(has(sink, freelancer, 2))
            async with (
                server_process(database_url, "", tmp_path, "b", env) as url_b,
                api_for(url_b) as api_b,
            ):
                accept_at = scene.accept_at
                # A second before the day before: nothing; then the reminder, once.
                stand_clock(offset_file, accept_at - DAY - dt.timedelta(seconds=1))
                await eventually(lambda: _passes(api_a, api_b), within=5)
                assert reminders(sink, client) == []
                stand_clock(offset_file, accept_at - DAY + dt.timedelta(seconds=1))
                await eventually(lambda: _reminded(sink, client))

                # The moment: accepted once, by whichever process got there first.
                last = max(accept_at, scene.silent_at)
                stand_clock(offset_file, last + dt.timedelta(seconds=1))
                await eventually(has(sink, freelancer, 3))
                await eventually(has(sink, muted.freelancer.email, 2))
                # Both workers have passed over it many times since (five times a second);
                # a duplicate would be in by now.
                await eventually(lambda: _passes(api_a, api_b), within=5)
                chat = await chat_of(api_a, team)
                state = await api_b.data(STATE, {"id": scene.waiting}, team.client.token)
                silent = {"id": scene.silent}
                muted_state = await api_a.data(STATE, silent, muted.client.token)

    subjects = [m["Subject"] for m in sink.to(freelancer)]
    assert subjects[1:] == ["Milestone accepted: “Control”", "Milestone accepted: “Audit”"]
    [reminder] = reminders(sink, client)
    assert reminder["Subject"] == "Accepted tomorrow unless you answer: “Audit”"
    local = scene.accept_at.astimezone(dt.timezone(dt.timedelta(hours=9)))
    text = reminder.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"Accepted automatically: {local:%Y-%m-%d at %H:%M} (time zone {ZONE})" in text
    assert f"Open the project: {PUBLIC_URL}/" in text
    assert str(reminder["List-Unsubscribe"]).startswith(f"<{PUBLIC_URL}/unsubscribe/")
    assert reminders(sink, muted.client.email) == []
    assert [m["Subject"] for m in sink.to(muted.freelancer.email)][1:] == [
        "Milestone accepted: “Silent”"
    ]
    events = [e for e in chat if e["kind"] == "MILESTONE_ACCEPTED"]
    assert events == [
        {
            "kind": "MILESTONE_ACCEPTED",
            "actor": {"id": team.client.id},
            "milestone": {"id": scene.control},
        },
        {"kind": "MILESTONE_ACCEPTED", "actor": None, "milestone": {"id": scene.waiting}},
    ]
    assert state["node"] == {"state": "ACCEPTED", "acceptedBy": None, "autoAcceptAt": None}
    assert muted_state["node"]["state"] == "ACCEPTED"


@dataclass(frozen=True)
class Scene:
    """Two projects: one with a milestone left waiting and a control accepted by hand, one
    whose client turned reminders off, with a milestone left waiting."""

    team: Team
    muted: Team
    waiting: str
    control: str
    silent: str
    accept_at: dt.datetime
    silent_at: dt.datetime


async def set_up(api: Api, database_url: str, tmp_path: Path) -> Scene:
    admin = await create_admin(api, database_url, tmp_path)
    team = await make_team_with(api, admin)
    zone = {"input": {"projectId": team.project_id, "timeZone": ZONE}}
    await api.data(ZONE_PROJECT, zone, team.client.token)
    waiting = await add_completed(api, team, "Audit")
    control = await add_completed(api, team, "Control")
    accepted = await api.data(ACCEPT, {"input": {"milestoneId": control}}, team.client.token)
    assert accepted["acceptMilestone"]["errors"] == []
    muted = await make_team_with(api, admin)
    assert (await update_settings(api, muted.client, reminders=False))["errors"] == []
    silent = await add_completed(api, muted, "Silent")
    accept_at = await auto_accept_at(api, team.client, waiting)
    silent_at = await auto_accept_at(api, muted.client, silent)
    return Scene(team, muted, waiting, control, silent, accept_at, silent_at)


async def add_completed(api: Api, team: Team, title: str) -> str:
    added = await api.add_milestone(team.freelancer, team.project_id, title, "2031-03-01")
    assert added["errors"] == [], added
    milestone_id = str(added["milestone"]["id"])
    await complete(api, team.freelancer, milestone_id, True)
    return milestone_id


async def auto_accept_at(api: Api, viewer: Account, milestone_id: str) -> dt.datetime:
    node = (await api.data(STATE, {"id": milestone_id}, viewer.token))["node"]
    assert node["state"] == "COMPLETED", node
    return dt.datetime.fromisoformat(node["autoAcceptAt"])


async def chat_of(api: Api, team: Team) -> list[dict[str, Any]]:
    data = await api.data(CHAT, {"id": team.project_id}, team.client.token)
    return [edge["node"] for edge in data["project"]["chat"]["edges"]]


def reminders(sink: Sink, address: str) -> list[Any]:
    return [m for m in sink.to(address) if m["Subject"].startswith("Accepted tomorrow")]


def has(sink: Sink, address: str, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return len(sink.to(address)) == count

    return check


async def _reminded(sink: Sink, address: str) -> bool:
    return len(reminders(sink, address)) == 1


async def _passes(api_a: Api, api_b: Api) -> bool:
    """Both processes answer after a second of their workers' time (they look every 0.2 s):
    what they would send by now is in."""
    await asyncio.sleep(1.0)
    await api_a.data("{ __typename }")
    await api_b.data("{ __typename }")
    return True
