"""The client's word on finished work through the API: accepting, sending back with a
reason, an accepted milestone final, the no-ops, validation, retries with Idempotency-Key,
the chat events live and resumed, the calendar feed, `autoAcceptAt`, and no overdue
reminder for an accepted milestone.

Every "nothing happened" is checked after the same thing was shown to happen.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from infra.mail_worker import running_worker
from models import ChangeRequest, MilestoneReminder, OutboxEmail
from server import mail_worker
from tests.support import Api, RunningServer, Team, eventually, make_team, pk
from tests.support_acceptance import (
    ACCEPT,
    MILESTONE,
    SEND_BACK,
    TICK,
    accept,
    mutate,
    send_back,
    ticked,
)
from tests.support_calendar import events, feed_url
from tests.support_deadlines import far_back, instant, local, move_clock, today_in
from tests.support_idempotency import post
from tests.support_mail import Sink, smtp_server, worker_settings
from tests.support_processes import api_for, server_process
from tests.support_ws import WsClient, wait_for_subscribers

EDIT = """mutation($input: EditMilestoneInput!) { editMilestone(input: $input) {
  errors { code field } } }"""
DELETE = """mutation($input: DeleteMilestoneInput!) { deleteMilestone(input: $input) {
  errors { code field } } }"""
PROJECT = f"""query($id: ID!) {{ project(id: $id) {{ milestones {{ {MILESTONE} }}
  chat(last: 100) {{ edges {{ node {{ id kind body actor {{ id }} milestone {{ id }} }} }} }} }} }}"""
LIVE = """subscription($id: ID!, $after: ID) { chatEvents(projectId: $id, after: $after) {
  id kind body actor { id } milestone { id state } } }"""


@pytest.fixture
async def team(api: Api) -> Team:
    return await make_team(api)


async def seen(api: Api, team: Team) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    """What a change could alter: the milestones, the chat, the e-mails of the project."""
    project = (await api.data(PROJECT, {"id": team.project_id}, team.client.token))["project"]
    chat = [edge["node"] for edge in project["chat"]["edges"]]
    emails = await OutboxEmail.filter(project_id=pk(team.project_id)).count()
    return {m["id"]: m for m in project["milestones"]}, chat, emails


async def test_the_client_accepts_a_completed_milestone(api: Api, team: Team) -> None:
    milestone_id = await ticked(api, team)
    _, chat, emails = await seen(api, team)

    payload = await accept(api, team, milestone_id)
    assert payload["errors"] == []
    accepted = payload["milestone"]
    assert accepted["state"] == "ACCEPTED" and accepted["completed"] is True
    assert accepted["acceptedBy"] == {"id": team.client.id}
    assert instant(accepted["acceptedAt"]) >= instant(accepted["completedAt"])
    assert accepted["autoAcceptAt"] is None and accepted["changeRequests"] == []

    milestones, chat_after, emails_after = await seen(api, team)
    assert milestones[milestone_id] == accepted
    [event] = chat_after[len(chat) :]
    assert event["kind"] == "MILESTONE_ACCEPTED"
    assert event["actor"] == {"id": team.client.id}
    assert event["milestone"] == {"id": milestone_id}
    assert event["body"] == f"{team.client.name} accepted the milestone “Feature store”."
    # One e-mail, to the freelancer whose work it was.
    assert emails_after == emails + 1
    [email] = await OutboxEmail.filter(to_address=team.freelancer.email, kind="milestone_accepted")
    assert email.subject == "Milestone accepted: “Feature store”"


async def waiting_reminders(milestone_id: str) -> int:
    return await MilestoneReminder.filter(milestone_id=pk(milestone_id), settled_at=None).count()


async def test_sending_back_reopens_with_the_reason_kept(api: Api, team: Team) -> None:
    milestone_id = await ticked(api, team)
    _, chat, _ = await seen(api, team)
    assert await waiting_reminders(milestone_id) == 0  # completed: nothing ahead

    payload = await send_back(api, team, milestone_id, "  The chart needs <axis> labels.\n ")
    assert payload["errors"] == []
    reopened = payload["milestone"]
    assert reopened["state"] == "OPEN" and reopened["completed"] is False
    assert reopened["completedAt"] is None and reopened["autoAcceptAt"] is None
    [request] = reopened["changeRequests"]
    assert request["reason"] == "The chart needs <axis> labels."  # trimmed, as written
    assert request["requestedBy"] == {"id": team.client.id}
    # Open again, its due-soon and overdue reminders are planned again, as on an untick.
    assert await waiting_reminders(milestone_id) > 0

    _, chat_after, _ = await seen(api, team)
    [event] = chat_after[len(chat) :]
    assert event["kind"] == "MILESTONE_CHANGES_REQUESTED"
    assert event["body"] == "The chart needs <axis> labels."
    assert event["actor"] == {"id": team.client.id}
    assert event["milestone"] == {"id": milestone_id}
    [email] = await OutboxEmail.filter(
        to_address=team.freelancer.email, kind="milestone_changes_requested"
    )
    assert "> The chart needs <axis> labels." in email.text_body
    assert "The chart needs &lt;axis&gt; labels." in email.html_body
    assert "<axis>" not in email.html_body

    # Another round: ticked again, sent back again; the requests are kept, newest first.
    await mutate(api, TICK, {"id": milestone_id, "completed": True}, team.freelancer)
    again = await send_back(api, team, milestone_id, "Now the legend.")
    reasons = [r["reason"] for r in again["milestone"]["changeRequests"]]
    assert reasons == ["Now the legend.", "The chart needs <axis> labels."]


async def test_an_accepted_milestone_is_final(api: Api, team: Team) -> None:
    control = await ticked(api, team, "Control")
    final = await ticked(api, team, "Final")
    assert (await accept(api, team, final))["errors"] == []
    before = await seen(api, team)

    refusals = [
        (EDIT, {"id": final, "title": "Renamed"}),
        (TICK, {"id": final, "completed": False}),
        (DELETE, {"id": final}),
    ]
    for document, fields in refusals:
        payload = await mutate(api, document, fields, team.freelancer)
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [
            ("MILESTONE_ACCEPTED", None)
        ], payload
    assert await seen(api, team) == before

    # The control: the same calls on a milestone that is only COMPLETED change it.
    for document, fields in refusals:
        fields = fields | {"id": control}
        assert (await mutate(api, document, fields, team.freelancer))["errors"] == []
        now = await seen(api, team)
        assert now != before
        before = now
    assert control not in now[0] and final in now[0]


async def test_no_ops_change_and_post_nothing(api: Api, team: Team) -> None:
    milestone_id = await ticked(api, team)
    # Shown to happen first: accepting posts and e-mails.
    before = await seen(api, team)
    assert (await accept(api, team, milestone_id))["errors"] == []
    accepted = await seen(api, team)
    assert accepted[1:] != before[1:]

    # Accepting twice, and ticking an accepted milestone again: nothing, and no error.
    again = await accept(api, team, milestone_id)
    assert again["errors"] == [] and again["milestone"]["state"] == "ACCEPTED"
    tick = await mutate(api, TICK, {"id": milestone_id, "completed": True}, team.freelancer)
    assert tick["errors"] == [] and tick["milestone"]["state"] == "ACCEPTED"
    assert await seen(api, team) == accepted

    # Sending back twice: the second changes nothing, posts nothing, and is no error.
    other = await ticked(api, team, "Other")
    assert (await send_back(api, team, other, "Please redo."))["errors"] == []
    sent_back = await seen(api, team)
    twice = await send_back(api, team, other, "Please redo, really.")
    assert twice["errors"] == [] and twice["milestone"]["state"] == "OPEN"
    assert await seen(api, team) == sent_back
    # Unticked by the freelancer rather than sent back: sending it back is refused.
    reopened = await ticked(api, team, "Reopened")
    untick = await mutate(api, TICK, {"id": reopened, "completed": False}, team.freelancer)
    assert untick["errors"] == []
    sent_back = await seen(api, team)
    refused = await send_back(api, team, reopened, "Please redo.")
    assert [e["code"] for e in refused["errors"]] == ["NOT_COMPLETED"]
    # Nor can an OPEN milestone be accepted, or an ACCEPTED one sent back.
    assert [e["code"] for e in (await accept(api, team, other))["errors"]] == ["NOT_COMPLETED"]
    back = await send_back(api, team, milestone_id, "Too late.")
    assert [e["code"] for e in back["errors"]] == ["NOT_COMPLETED"]
    assert await seen(api, team) == sent_back
    assert await ChangeRequest.filter(milestone_id=pk(other)).count() == 1


@pytest.mark.parametrize(
    ("reason", "code"), [("", "BLANK"), (" \n\t ", "BLANK"), ("x" * 2001, "TOO_LONG")]
)
async def test_a_bad_reason_changes_nothing(api: Api, team: Team, reason: str, code: str) -> None:
    milestone_id = await ticked(api, team)
    before = await seen(api, team)
    payload = await send_back(api, team, milestone_id, reason)
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, ["reason"])]
    assert payload["errors"][0]["message"] and payload["milestone"] is None
    assert await seen(api, team) == before
    # The control: 2000 characters are fine, and change what was compared.
    payload = await send_back(api, team, milestone_id, "y" * 2000)
    assert payload["errors"] == [] and payload["milestone"]["state"] == "OPEN"
    assert await seen(api, team) != before


async def test_only_the_client_may_give_their_word(api: Api, team: Team) -> None:
    milestone_id = await ticked(api, team)
    before = await seen(api, team)
    for caller, code in [(team.freelancer, "FORBIDDEN"), (team.admin, "FORBIDDEN"),
                         (team.outsider, "NOT_FOUND")]:  # fmt: skip
        for document, fields in [
            (ACCEPT, {"milestoneId": milestone_id}),
            (SEND_BACK, {"milestoneId": milestone_id, "reason": "No."}),
        ]:
            body = await api.post(document, {"input": fields}, caller.token)
            assert [e["extensions"]["code"] for e in body["errors"]] == [code], body
    assert await seen(api, team) == before


async def test_a_retry_with_the_same_idempotency_key_runs_once(api: Api, team: Team) -> None:
    back, accepted = await ticked(api, team, "Back"), await ticked(api, team, "Accepted")
    before = await seen(api, team)
    calls = [
        (SEND_BACK, {"milestoneId": back, "reason": "Once, please."}),
        (ACCEPT, {"milestoneId": accepted}),
    ]
    for document, fields in calls:
        key = str(uuid.uuid4())
        first = await post(api, team.client, document, {"input": fields}, key)
        retry = await post(api, team.client, document, {"input": fields}, key)
        assert first.status_code == retry.status_code == 200
        assert retry.content == first.content
        [payload] = first.json()["data"].values()
        assert payload["errors"] == [], payload
    milestones, chat, emails = await seen(api, team)
    assert [e["kind"] for e in chat[len(before[1]) :]] == [
        "MILESTONE_CHANGES_REQUESTED",
        "MILESTONE_ACCEPTED",
    ]
    assert emails == before[2] + 2
    assert len(milestones[back]["changeRequests"]) == 1
    assert milestones[accepted]["state"] == "ACCEPTED"


@pytest.mark.usefixtures("subscriber_baseline")
async def test_chat_events_arrive_live_and_on_resume(
    api: Api, server: RunningServer, team: Team
) -> None:
    back, accepted = await ticked(api, team, "Back"), await ticked(api, team, "Accepted")
    _, chat, _ = await seen(api, team)
    last_seen = chat[-1]["id"]
    async with WsClient.open(server.ws_url, team.freelancer.token) as ws:
        op = await ws.subscribe(team.project_id, LIVE)
        await wait_for_subscribers(1)
        await send_back(api, team, back, "Labels, please.")
        await accept(api, team, accepted)
        live = [await ws.event(op), await ws.event(op)]
    assert [(e["kind"], e["body"], e["milestone"]) for e in live] == [
        ("MILESTONE_CHANGES_REQUESTED", "Labels, please.", {"id": back, "state": "OPEN"}),
        (
            "MILESTONE_ACCEPTED",
            f"{team.client.name} accepted the milestone “Accepted”.",
            {"id": accepted, "state": "ACCEPTED"},
        ),
    ]
    assert all(e["actor"] == {"id": team.client.id} for e in live)
    # A subscriber that was away resumes after the last message it saw: the same two.
    async with WsClient.open(server.ws_url, team.client.token) as ws:
        op = "resume"
        variables = {"id": team.project_id, "after": last_seen}
        payload = {"query": LIVE, "variables": variables}
        await ws.send({"id": op, "type": "subscribe", "payload": payload})
        replayed = [await ws.event(op), await ws.event(op)]
    assert [e["id"] for e in replayed] == [e["id"] for e in live]


async def test_the_calendar_feed_shows_an_accepted_milestone_as_done(api: Api, team: Team) -> None:
    milestone_id = await ticked(api, team, "Feature store")
    url = await feed_url(api, team.client)
    title = "Feature store — Data pipeline audit"
    completed = (await events(url))[f"✓ {title}"]
    assert str(completed["DESCRIPTION"]).startswith("Completed.")
    await accept(api, team, milestone_id)
    accepted = (await events(url))[f"✓ {title}"]
    assert str(accepted["DESCRIPTION"]).startswith("Accepted.")
    assert int(accepted["SEQUENCE"]) == int(completed["SEQUENCE"]) + 1


async def test_auto_accept_at_follows_the_setting(
    api: Api, server: RunningServer, team: Team, tmp_path: Path
) -> None:
    milestone_id = await ticked(api, team)
    node = f"query($id: ID!) {{ node(id: $id) {{ ... on Milestone {{ {MILESTONE} }} }} }}"
    shown = (await api.data(node, {"id": milestone_id}, team.client.token))["node"]
    # The suite's server runs with the default, MILESTONE_AUTO_ACCEPT_DAYS=14.
    assert server.settings.milestone_auto_accept_days == 14
    due = instant(shown["completedAt"]) + dt.timedelta(days=14)
    assert instant(shown["autoAcceptAt"]) == due
    # The same milestone, read from a process where automatic acceptance is off.
    env = {"MILESTONE_AUTO_ACCEPT_DAYS": "0"}
    database = server.settings.database_url
    async with server_process(database, "", tmp_path, "off", env) as url, api_for(url) as other:
        off = (await other.data(node, {"id": milestone_id}, team.client.token))["node"]
        assert off["autoAcceptAt"] is None and off["state"] == "COMPLETED"
    # Accepted, it has no moment of automatic acceptance any more.
    assert (await accept(api, team, milestone_id))["milestone"]["autoAcceptAt"] is None


@pytest.fixture
async def long_ago(server: RunningServer) -> AsyncIterator[dt.datetime]:
    """The server's clock far back, where no other test's reminders fall."""
    async with far_back(server, days=1500) as start:
        yield start


async def test_an_accepted_milestone_is_never_overdue(
    api: Api, server: RunningServer, team: Team, long_ago: dt.datetime
) -> None:
    due = (today_in("UTC") + dt.timedelta(days=2)).isoformat()
    open_one = await api.add_milestone(team.freelancer, team.project_id, "Open", due)
    control = open_one["milestone"]["id"]
    accepted = await ticked(api, team, "Accepted", due=due)
    assert (await accept(api, team, accepted))["errors"] == []

    # Three days after the due date, the open control is overdue and reminded; not the other.
    move_clock(local(dt.date.fromisoformat(due) + dt.timedelta(days=3), 12, "UTC"))
    milestones, _, _ = await seen(api, team)
    assert milestones[control]["overdue"] is True
    assert milestones[accepted]["overdue"] is False
    sink = Sink()
    with smtp_server(sink) as controller:
        async with running_worker(mail_worker(worker_settings(server, controller.port))):
            await eventually(lambda: _has(sink, team.freelancer.email, "Overdue: “Open”"))
            await asyncio.sleep(0.5)  # passes enough for any other reminder to go
    subjects = [m["Subject"] for m in sink.to(team.freelancer.email)]
    subjects += [m["Subject"] for m in sink.to(team.client.email)]
    assert "Overdue: “Open”" in subjects
    assert not [s for s in subjects if "Accepted" in s and "Overdue" in s], subjects
    _, chat, _ = await seen(api, team)
    overdue = [e["milestone"] for e in chat if e["kind"] == "MILESTONE_OVERDUE"]
    assert overdue == [{"id": control}]


async def _has(sink: Sink, address: str, subject: str) -> bool:
    return any(m["Subject"] == subject for m in sink.to(address))
