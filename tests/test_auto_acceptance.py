"""Automatic acceptance and the client's reminder the day before, driven by the clock.

The server's clock (infra/clock.py) stands years back, where no other test's milestone was
completed (the deadline reminders' tests stand 1000 days back; these 3000). Each step runs
a delivery worker with the clock a minute before a moment, when nothing may come, then
moves the clock to the moment, when it comes. Every test keeps a control beside what it
says does not happen, which shows that it could have.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import AsyncIterator
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from infra import clock
from infra.mail_worker import running_worker
from models import ChatEventKind, ChatMessage, EmailStatus, Milestone, OutboxEmail
from schema.ids import pk_of
from server import mail_worker
from services import auto_acceptance
from tests.support import Account, Api, RunningServer, Team, eventually
from tests.support_deadlines import far_back, move_clock, today_in, zoned_team
from tests.support_mail import Sink, drain_backlog, smtp_server, worker_settings
from tests.support_plans import captured_statements, plan_defects, sqlite_plan
from tests.support_prefs import complete

# Half an hour off UTC: the moment the reminder names is read in the project's zone.
ZONE = "Asia/Kolkata"
DAY = dt.timedelta(days=1)
PERIOD = 14 * DAY  # MILESTONE_AUTO_ACCEPT_DAYS unset
BACK = 3000 * DAY
ACCEPT = """mutation($input: AcceptMilestoneInput!) {
  acceptMilestone(input: $input) { errors { code } milestone { state } } }"""
SEND_BACK = """mutation($input: RequestMilestoneChangesInput!) {
  requestMilestoneChanges(input: $input) { errors { code } milestone { state } } }"""
STATE = """query($id: ID!) { node(id: $id) { ... on Milestone {
  state completed acceptedAt acceptedBy { id } autoAcceptAt } } }"""
REMINDER = "Accepted tomorrow unless you answer: “{}”"


@pytest.fixture
async def base(server: RunningServer) -> AsyncIterator[dt.datetime]:
    """Far back in time, where no other test's milestone waits for acceptance."""
    async with far_back(server, days=BACK.days) as start:
        yield start


async def step(
    server: RunningServer,
    sink: Sink,
    moment: dt.datetime,
    address: str,
    count: int,
    **settings: Any,
) -> None:
    """A worker runs with the clock a minute before `moment`, when `address` must have fewer
    than `count` e-mails, then at `moment`, when its `count`-th comes."""
    move_clock(moment - dt.timedelta(minutes=1))
    with smtp_server(sink) as controller:
        worker = mail_worker(worker_settings(server, controller.port, **settings))
        async with running_worker(worker):
            await asyncio.sleep(0.3)  # a few of its passes, 0.05 s apart
            assert len(sink.to(address)) < count, subjects(sink, address)
            move_clock(moment)
            await eventually(lambda: _count(sink, address, count))


async def quiet(server: RunningServer, sink: Sink, moment: dt.datetime, **settings: Any) -> None:
    """A worker runs a while at `moment` (what it sends lands in `sink`)."""
    move_clock(moment)
    with smtp_server(sink) as controller:
        async with running_worker(
            mail_worker(worker_settings(server, controller.port, **settings))
        ):
            await asyncio.sleep(0.5)
            await eventually(_nothing_pending)


async def _nothing_pending() -> bool:
    return not await OutboxEmail.filter(status=EmailStatus.PENDING).exists()


async def _count(sink: Sink, address: str, count: int) -> bool:
    return len(sink.to(address)) == count


def subjects(sink: Sink, address: str) -> list[str]:
    return [m["Subject"] for m in sink.to(address)]


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


async def add_completed(api: Api, team: Team, title: str) -> str:
    """A milestone due far ahead (no due-date reminder comes in these tests), ticked now."""
    due = today_in(ZONE) + 60 * DAY
    added = await api.add_milestone(team.freelancer, team.project_id, title, due.isoformat())
    assert added["errors"] == [], added
    milestone_id = str(added["milestone"]["id"])
    await complete(api, team.freelancer, milestone_id, True)
    return milestone_id


async def completed_at(milestone_id: str) -> dt.datetime:
    milestone = await Milestone.get(id=pk_of(milestone_id, "Milestone"))
    assert milestone.completed_at is not None
    return milestone.completed_at


async def state(api: Api, viewer: Account, milestone_id: str) -> dict[str, Any]:
    return (await api.data(STATE, {"id": milestone_id}, viewer.token))["node"]


async def accepted_events(milestone_id: str) -> list[ChatMessage]:
    return await ChatMessage.filter(
        milestone_id=pk_of(milestone_id, "Milestone"), kind=ChatEventKind.MILESTONE_ACCEPTED
    )


async def test_reminded_the_day_before_then_accepted_once_and_the_control_gets_neither(
    api: Api, server: RunningServer, base: dt.datetime
) -> None:
    team = await zoned_team(api, ZONE)
    waiting = await add_completed(api, team, "Schema review")
    control = await add_completed(api, team, "Control")
    accepted = await api.data(ACCEPT, {"input": {"milestoneId": control}}, team.client.token)
    assert accepted["acceptMilestone"] == {"errors": [], "milestone": {"state": "ACCEPTED"}}
    await drain_backlog(server)  # the unlock, change and acceptance e-mails: out of the way
    sink = Sink()
    freelancer, client = team.freelancer.email, team.client.email
    done = await completed_at(waiting)
    accept_at = done + PERIOD
    assert clock.now() < accept_at
    shown = await state(api, team.client, waiting)
    assert dt.datetime.fromisoformat(shown["autoAcceptAt"]) == accept_at

    # The day before: the client is reminded, of this milestone only.
    await step(server, sink, accept_at - DAY, client, 1)
    assert subjects(sink, client) == [REMINDER.format("Schema review")]
    text = text_of(sink.to(client)[0])
    local = accept_at.astimezone(ZoneInfo(ZONE))
    assert local.utcoffset() == dt.timedelta(hours=5, minutes=30)
    assert f"Accepted automatically: {local:%Y-%m-%d at %H:%M} (time zone {ZONE})" in text
    assert '"Schema review"' in text
    assert '"Data pipeline audit"' in text
    assert "If you do nothing, the milestone is accepted automatically at that moment" in text
    assert freelancer not in [a for rcpts, _ in sink.received for a in rcpts]
    assert (await state(api, team.client, waiting))["state"] == "COMPLETED"

    # At the moment: accepted by the clock, the freelancer told, the chat says it.
    await step(server, sink, accept_at, freelancer, 1)
    [told] = sink.to(freelancer)
    assert "Schema review" in told["Subject"]
    after = await state(api, team.client, waiting)
    assert after["state"] == "ACCEPTED" and after["completed"] is True
    assert after["acceptedBy"] is None and after["autoAcceptAt"] is None
    assert accept_at <= dt.datetime.fromisoformat(after["acceptedAt"]) <= clock.now()
    [event] = await accepted_events(waiting)
    assert event.actor_id is None and event.project_id == pk_of(team.project_id, "Project")

    # Once: later workers find nothing to do; the control got neither, ever.
    await quiet(server, sink, accept_at + 3 * DAY)
    assert subjects(sink, client) == [REMINDER.format("Schema review")]
    assert len(sink.to(freelancer)) == 1
    assert len(await accepted_events(waiting)) == 1
    [by_hand] = await accepted_events(control)
    assert by_hand.actor_id == pk_of(team.client.id, "User")
    control_state = await state(api, team.client, control)
    assert control_state["acceptedBy"] == {"id": team.client.id}


async def test_unticking_or_sending_back_cancels_and_ticking_again_starts_anew(
    api: Api, server: RunningServer, base: dt.datetime
) -> None:
    team = await zoned_team(api, ZONE)
    control = await add_completed(api, team, "Control")
    unticked = await add_completed(api, team, "Unticked")
    sent_back = await add_completed(api, team, "Sent back")
    start = await completed_at(control)
    move_clock(start + DAY)
    await complete(api, team.freelancer, unticked, False)
    changes = {"input": {"milestoneId": sent_back, "reason": "The totals are off."}}
    answer = await api.data(SEND_BACK, changes, team.client.token)
    assert answer["requestMilestoneChanges"] == {"errors": [], "milestone": {"state": "OPEN"}}
    move_clock(start + 2 * DAY)
    await complete(api, team.freelancer, unticked, True)  # a new period from here
    again = await completed_at(unticked)
    assert again >= start + 2 * DAY
    await drain_backlog(server)
    sink = Sink()
    freelancer, client = team.freelancer.email, team.client.email

    # The first period's moments: the control is reminded and accepted, the others not.
    await step(server, sink, start + PERIOD - DAY, client, 1)
    await step(server, sink, start + PERIOD, freelancer, 1)
    assert subjects(sink, client) == [REMINDER.format("Control")]
    assert "Control" in sink.to(freelancer)[0]["Subject"]
    assert (await state(api, team.client, unticked))["state"] == "COMPLETED"
    assert (await state(api, team.client, sent_back))["state"] == "OPEN"

    # The new period of the one ticked again: its own reminder and acceptance.
    await step(server, sink, again + PERIOD - DAY, client, 2)
    await step(server, sink, again + PERIOD, freelancer, 2)
    assert subjects(sink, client)[1] == REMINDER.format("Unticked")
    assert (await state(api, team.client, unticked))["state"] == "ACCEPTED"
    # The one sent back stays open: no reminder, no acceptance, whenever.
    await quiet(server, sink, again + PERIOD + 5 * DAY)
    assert len(sink.to(client)) == 2 and len(sink.to(freelancer)) == 2
    assert (await state(api, team.client, sent_back))["state"] == "OPEN"
    assert await accepted_events(sent_back) == []


async def test_turned_off_with_zero_days(
    api: Api, server: RunningServer, base: dt.datetime
) -> None:
    team = await zoned_team(api, ZONE)
    first = await add_completed(api, team, "First")
    move_clock(base + 2 * DAY)
    second = await add_completed(api, team, "Second")
    await drain_backlog(server)
    sink = Sink()
    freelancer, client = team.freelancer.email, team.client.email

    # With the setting on, the first is reminded of and accepted.
    await step(server, sink, await completed_at(first) + PERIOD, freelancer, 1)
    assert subjects(sink, client) == [REMINDER.format("First")]
    assert (await state(api, team.client, first))["state"] == "ACCEPTED"

    # Off: the second's moments pass with nothing sent and nothing accepted.
    off = {"milestone_auto_accept_days": 0}
    await quiet(server, sink, await completed_at(second) + PERIOD + DAY, **off)
    assert len(sink.to(client)) == 1 and len(sink.to(freelancer)) == 1
    assert (await state(api, team.client, second))["state"] == "COMPLETED"
    assert await accepted_events(second) == []


async def test_a_worker_down_past_the_moments_catches_up_once(
    api: Api, server: RunningServer, base: dt.datetime
) -> None:
    team = await zoned_team(api, ZONE)
    overdue = await add_completed(api, team, "Overdue")
    move_clock(base + DAY / 2)
    tomorrow = await add_completed(api, team, "Tomorrow")
    await drain_backlog(server)
    sink = Sink()
    freelancer, client = team.freelancer.email, team.client.email

    # No worker ran while both moments of the first and the reminder's of the second passed.
    back = await completed_at(overdue) + PERIOD + DAY / 4
    assert (
        await completed_at(tomorrow) + PERIOD - DAY < back < await completed_at(tomorrow) + PERIOD
    )
    move_clock(back)
    with smtp_server(sink) as controller:
        async with running_worker(mail_worker(worker_settings(server, controller.port))):
            await eventually(lambda: _count(sink, freelancer, 1))
            await eventually(lambda: _count(sink, client, 1))
    # The first is accepted, without a reminder of a moment gone by; the second reminded.
    assert subjects(sink, client) == [REMINDER.format("Tomorrow")]
    assert "Overdue" in sink.to(freelancer)[0]["Subject"]
    assert (await state(api, team.client, overdue))["state"] == "ACCEPTED"

    # Started again at the same moment: nothing a second time.
    await quiet(server, sink, back)
    assert len(sink.to(client)) == 1 and len(sink.to(freelancer)) == 1
    assert len(await accepted_events(overdue)) == 1


async def test_each_statement_of_a_pass_uses_an_index(
    api: Api, server: RunningServer, base: dt.datetime
) -> None:
    """The chore's pass reads what is due, and when the next is, through the index on
    (accepted_at, completed_at): its cost does not grow with the milestones done."""
    url = server.settings.database_url
    if not url.startswith("sqlite://"):
        pytest.skip("plans are checked on SQLite, as in tests/test_query_plans.py")
    team = await zoned_team(api, ZONE)
    accepted = await add_completed(api, team, "Accepted")
    move_clock(base + DAY / 2)
    await add_completed(api, team, "Reminded")
    move_clock(await completed_at(accepted) + PERIOD + DAY / 4)
    chore = auto_acceptance.chore(worker_settings(server, 25))
    assert chore is not None
    with captured_statements() as statements:
        wait = await chore.run()
    assert 0 < wait <= worker_settings(server, 25).milestone_reminder_check_seconds
    assert (await state(api, team.client, accepted))["state"] == "ACCEPTED"
    reads = [s for s in statements if "milestone" in s.sql]
    assert any("acceptance_reminded_at" in s.sql for s in reads), reads  # the log was read
    with sqlite3.connect(url.removeprefix("sqlite://")) as db:
        found = {s.sql: plan_defects(sqlite_plan(db, s)) for s in statements}
    assert {sql: bad for sql, bad in found.items() if bad} == {}


async def test_unticked_after_its_reminder_it_is_reminded_again_in_its_new_period(
    api: Api, server: RunningServer, base: dt.datetime
) -> None:
    team = await zoned_team(api, ZONE)
    redone = await add_completed(api, team, "Redone")
    control = await add_completed(api, team, "Control")
    start = await completed_at(redone)
    await drain_backlog(server)
    sink = Sink()
    freelancer, client = team.freelancer.email, team.client.email
    await step(server, sink, start + PERIOD - DAY, client, 2)
    assert sorted(subjects(sink, client)) == [REMINDER.format(t) for t in ("Control", "Redone")]

    # Unticked and ticked again after the reminder: the acceptance it announced is off.
    move_clock(start + PERIOD - DAY / 2)
    await complete(api, team.freelancer, redone, False)
    await complete(api, team.freelancer, redone, True)
    again = await completed_at(redone)
    await drain_backlog(server)  # the "reopened" and "completed" e-mails to the client
    await step(server, sink, start + PERIOD, freelancer, 1)
    assert "Control" in sink.to(freelancer)[0]["Subject"]
    assert (await state(api, team.client, control))["state"] == "ACCEPTED"
    assert (await state(api, team.client, redone))["state"] == "COMPLETED"

    # Its new period: a new reminder, then the acceptance.
    await step(server, sink, again + PERIOD - DAY, client, 3)
    assert subjects(sink, client)[-1] == REMINDER.format("Redone")
    await step(server, sink, again + PERIOD, freelancer, 2)
    assert (await state(api, team.client, redone))["state"] == "ACCEPTED"
    assert len(await accepted_events(redone)) == 1
