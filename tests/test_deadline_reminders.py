"""Due-soon and overdue reminders: each once, at its moment, re-armed by a date change, never
for a completed or deleted milestone.

The server's clock (infra/clock.py) stands years back, where no other test's reminder falls.
Each step runs a delivery worker with the clock a minute before a reminder's moment, when
nothing may come, then moves the clock to the moment, when the e-mail comes. One step
runs in real time instead: with the clock 1.5 s before the moment, a worker that looks for
new reminders only once a minute must still send at the moment (it sleeps until the next
reminder is due), and not before it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest

from infra import clock
from infra.mail_worker import running_worker
from models import Milestone, MilestoneReminder
from schema.ids import pk_of
from server import mail_worker
from tests.support import Api, RunningServer, Team, eventually
from tests.support_deadlines import far_back, local, move_clock, today_in, zoned_team
from tests.support_mail import Sink, drain_backlog, smtp_server, worker_settings
from tests.support_ws import COMPLETE, DELETE, EDIT

ZONE = "Europe/Berlin"
LEAD = 1.5  # seconds of real time between starting a worker and the reminder's moment
ON_TIME = 1.5  # how late after its moment an e-mail may arrive
CHAT = """query($id: ID!) { project(id: $id) { chat(last: 5) { edges { node {
  kind body actor { id } milestone { id overdue } } } } } }"""


class TimedSink(Sink):
    """Notes the server clock's reading when each message arrived, by Message-ID."""

    def __init__(self) -> None:
        super().__init__()
        self.at: dict[str, dt.datetime] = {}

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        with self._lock:
            self.at[self.received[-1][1]["Message-ID"]] = clock.now()
        return answer

    def subjects(self, address: str) -> list[str]:
        return [m["Subject"] for m in self.to(address)]


@pytest.fixture
async def base(server: RunningServer) -> AsyncIterator[dt.datetime]:
    """Far back in time, where the steps of a test meet no other test's reminders."""
    async with far_back(server, days=1000) as start:
        yield start


async def step(
    server: RunningServer, sink: TimedSink, moment: dt.datetime, address: str, count: int
) -> None:
    """Driven by the clock: a worker that looks often runs with the clock a minute before
    `moment`; then the clock reaches the moment, and the moment's e-mail comes (until
    `address` has `count` e-mails), the newest, and sent at the moment, not before."""
    move_clock(moment - dt.timedelta(minutes=1))
    with smtp_server(sink) as controller:
        async with running_worker(mail_worker(worker_settings(server, controller.port))):
            # A few of the worker's passes, 0.05 s apart: what was due earlier goes now; an
            # e-mail of the moment sent now would be read below as sent before its moment.
            await asyncio.sleep(0.3)
            move_clock(moment)
            await eventually(lambda: _at_least(sink, address, count), within=15)
    _on_time(sink, moment, address, within=dt.timedelta(seconds=15))


async def step_in_real_time(
    server: RunningServer, sink: TimedSink, moment: dt.datetime, address: str, count: int
) -> None:
    """Stand the clock LEAD seconds before `moment` and start a worker that looks for new
    reminders only once a minute: the e-mail must still come at the moment, as the worker
    sleeps until the next reminder is due, and not before it."""
    move_clock(moment - dt.timedelta(seconds=LEAD))
    with smtp_server(sink) as controller:
        settings = worker_settings(server, controller.port, milestone_reminder_check_seconds=60.0)
        async with running_worker(mail_worker(settings)):
            await eventually(lambda: _at_least(sink, address, count), within=15)
    _on_time(sink, moment, address, within=dt.timedelta(seconds=ON_TIME))


def _on_time(sink: TimedSink, moment: dt.datetime, address: str, within: dt.timedelta) -> None:
    newest = sink.to(address)[-1]
    at = sink.at[newest["Message-ID"]]
    assert moment <= at <= moment + within, (moment, at)


async def add(api: Api, team: Team, title: str, due: dt.date) -> str:
    added = await api.add_milestone(team.freelancer, team.project_id, title, due.isoformat())
    assert added["errors"] == [], added
    return added["milestone"]["id"]


async def chat(api: Api, team: Team) -> list[dict[str, Any]]:
    data = await api.data(CHAT, {"id": team.project_id}, team.client.token)
    return [edge["node"] for edge in data["project"]["chat"]["edges"]]


async def test_each_reminder_once_at_its_moment(
    api: Api, server: RunningServer, base: dt.datetime
) -> None:
    team = await zoned_team(api, ZONE)
    due = today_in(ZONE) + dt.timedelta(days=10)
    milestone_id = await add(api, team, "Feature audit", due)
    await drain_backlog(server)  # the unlock and change e-mails: out of the way
    sink = TimedSink()
    freelancer, client = team.freelancer.email, team.client.email

    three_days = local(due - dt.timedelta(days=3), 9, ZONE)
    await step_in_real_time(server, sink, three_days, freelancer, 1)
    assert sink.subjects(freelancer) == ["Due in 3 days: “Feature audit”"]
    # A restart at the same moment sends nothing again; the next step's worker proves
    # reminders still go out after it.
    await step(server, sink, local(due - dt.timedelta(days=1), 9, ZONE), freelancer, 2)
    assert sink.subjects(freelancer)[1:] == ["Due tomorrow: “Feature audit”"]
    [message] = [m for m in sink.to(freelancer) if m["Subject"].startswith("Due tomorrow")]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"Due: {due.isoformat()}, until the end of that day in the time zone {ZONE}" in text
    assert "Data pipeline audit" in text
    assert client not in [a for rcpts, _ in sink.received for a in rcpts]

    # The morning after the due day: both are told, and the chat says it live.
    await step(server, sink, local(due + dt.timedelta(days=1), 9, ZONE), client, 1)
    await eventually(lambda: _count(sink, freelancer, 3))
    assert sink.subjects(freelancer)[2] == sink.subjects(client)[0] == "Overdue: “Feature audit”"
    [event, *_] = [m for m in reversed(await chat(api, team)) if m["kind"] == "MILESTONE_OVERDUE"]
    assert event["actor"] is None
    assert event["milestone"] == {"id": milestone_id, "overdue": True}
    assert f"was due {due.isoformat()} ({ZONE})" in event["body"]

    # Every 7 days while open: e-mails again, no second chat event.
    await step(server, sink, local(due + dt.timedelta(days=8), 9, ZONE), client, 2)
    await eventually(lambda: _count(sink, freelancer, 4))
    overdue_events = [m for m in await chat(api, team) if m["kind"] == "MILESTONE_OVERDUE"]
    assert len(overdue_events) == 1
    assert len(sink.to(freelancer)) == 4 and len(sink.to(client)) == 2


async def _count(sink: Sink, address: str, count: int) -> bool:
    return len(sink.to(address)) == count


async def _at_least(sink: Sink, address: str, count: int) -> bool:
    return len(sink.to(address)) >= count


async def test_a_date_change_rearms_and_drops_what_no_longer_applies(
    api: Api, server: RunningServer, base: dt.datetime
) -> None:
    team = await zoned_team(api, ZONE)
    due = today_in(ZONE) + dt.timedelta(days=10)
    await add(api, team, "Control", due)
    moved = await add(api, team, "Moved", due)
    later = due + dt.timedelta(days=5)
    edited = await api.data(
        EDIT, {"input": {"id": moved, "dueDate": later.isoformat()}}, team.freelancer.token
    )
    assert edited["editMilestone"]["errors"] == []
    await drain_backlog(server)  # the unlock and change e-mails: out of the way
    sink = TimedSink()
    freelancer = team.freelancer.email

    # Three days and one day before the old date: the control is reminded, the moved one not.
    await step(server, sink, local(due - dt.timedelta(days=3), 9, ZONE), freelancer, 1)
    await step(server, sink, local(due - dt.timedelta(days=1), 9, ZONE), freelancer, 2)
    assert sink.subjects(freelancer) == ["Due in 3 days: “Control”", "Due tomorrow: “Control”"]
    # The new date's reminders are armed: three days before it, then the day before.
    await step(server, sink, local(later - dt.timedelta(days=3), 9, ZONE), freelancer, 4)
    assert "Due in 3 days: “Moved”" in sink.subjects(freelancer)
    await step(server, sink, local(later - dt.timedelta(days=1), 9, ZONE), freelancer, 5)
    assert sink.subjects(freelancer)[-1] == "Due tomorrow: “Moved”"
    assert sink.subjects(freelancer).count("Due tomorrow: “Moved”") == 1


async def test_nothing_for_completed_or_deleted_and_overdue_again_when_reopened(
    api: Api, server: RunningServer, base: dt.datetime
) -> None:
    team = await zoned_team(api, ZONE)
    due = today_in(ZONE) + dt.timedelta(days=2)  # the 3-day reminder's moment has passed
    await add(api, team, "Control", due)
    done = await add(api, team, "Done", due)
    gone = await add(api, team, "Gone", due)
    token = team.freelancer.token
    await api.data(COMPLETE, {"input": {"id": done, "completed": True}}, token)
    await api.data(DELETE, {"input": {"id": gone}}, token)
    await drain_backlog(server)  # the unlock and change e-mails: out of the way
    sink = TimedSink()
    freelancer, client = team.freelancer.email, team.client.email

    # The control proves each reminder was due; the other two get none of them.
    await step(server, sink, local(due - dt.timedelta(days=1), 9, ZONE), freelancer, 1)
    await step(server, sink, local(due + dt.timedelta(days=1), 9, ZONE), client, 1)
    await eventually(lambda: _count(sink, freelancer, 2))
    assert sink.subjects(freelancer) == ["Due tomorrow: “Control”", "Overdue: “Control”"]
    assert sink.subjects(client) == ["Overdue: “Control”"]
    assert not await MilestoneReminder.filter(milestone_id=pk_of(done, "Milestone")).exists()
    assert not await Milestone.filter(id=pk_of(gone, "Milestone")).exists()

    # Reopened after its due day: overdue again, told the next morning.
    reopened = await api.data(COMPLETE, {"input": {"id": done, "completed": False}}, token)
    assert reopened["setMilestoneCompleted"]["errors"] == []
    await drain_backlog(server)  # the "reopened" e-mail
    await step(server, sink, local(due + dt.timedelta(days=2), 9, ZONE), client, 2)
    assert sink.subjects(client)[-1] == "Overdue: “Done”"
    kinds = [(m["kind"], m["body"]) for m in await chat(api, team)]
    assert kinds[-1][0] == "MILESTONE_OVERDUE" and "“Done”" in kinds[-1][1]
