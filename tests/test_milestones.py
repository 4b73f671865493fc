"""Milestones through the API: validation, order, edits, ticks, deletes, and what they post.

A refused or silent change is checked against the same call made to succeed in the same
test, so "no milestone, no chat event, no e-mail" is known to be observable.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from models import Milestone, OutboxEmail
from schema.ids import pk_of
from tests.support import Api, RunningServer, Team, future, make_team
from tests.support_ws import WsClient

PROJECT = """query($id: ID!) { project(id: $id) {
  viewerCanEditMilestones
  milestones { id title description dueDate completed completedAt completedBy { id } overdue }
  milestoneProgress { total completed }
  scheduleWarnings { code message }
  chat(last: 100) { edges { node { kind body author { id } actor { id }
    milestone { id title } changes { field from to } } } } } }"""

EDIT = """mutation($input: EditMilestoneInput!) { editMilestone(input: $input) {
  errors { code field message } milestone { id title description dueDate updatedAt } } }"""
TICK = """mutation($input: SetMilestoneCompletedInput!) { setMilestoneCompleted(input: $input) {
  errors { code field } milestone { completed completedAt completedBy { id } } } }"""
DELETE = """mutation($input: DeleteMilestoneInput!) { deleteMilestone(input: $input) {
  errors { code } deletedMilestoneId project { milestones { id } } } }"""


async def project(api: Api, team: Team, as_: str = "freelancer") -> dict[str, Any]:
    token = getattr(team, as_).token
    return (await api.data(PROJECT, {"id": team.project_id}, token))["project"]


def chat_kinds(p: dict[str, Any]) -> list[str]:
    return [e["node"]["kind"] for e in p["chat"]["edges"]]


async def emails_to(address: str) -> list[OutboxEmail]:
    return await OutboxEmail.filter(to_address=address).order_by("id")


@pytest.fixture
async def team(api: Api) -> Team:
    return await make_team(api)


BAD_INPUTS = [
    ({"title": "   "}, "BLANK", "title"),
    ({"title": "x" * 121}, "TOO_LONG", "title"),
    ({"title": "two\nlines"}, "INVALID", "title"),
    ({"title": "bell\x07"}, "INVALID", "title"),
    ({"description": "d" * 2001}, "TOO_LONG", "description"),
    ({"dueDate": "2020-01-01"}, "IN_THE_PAST", "dueDate"),
]


@pytest.mark.parametrize(("fields", "code", "field"), BAD_INPUTS)
async def test_add_rejects_bad_input_and_changes_nothing(
    api: Api, team: Team, fields: dict[str, str], code: str, field: str
) -> None:
    before = await project(api, team)
    payload = await api.add_milestone(
        team.freelancer,
        team.project_id,
        fields.get("title", "Valid"),
        **{k: v for k, v in fields.items() if k != "title"},
    )
    assert payload["milestone"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, [field])]
    assert payload["errors"][0]["message"]
    assert await project(api, team) == before
    assert len(await emails_to(team.client.email)) == 0

    # The control: the same call with valid input adds, posts and e-mails.
    valid = await api.add_milestone(team.freelancer, team.project_id, "Valid", future(10))
    assert valid["errors"] == []
    after = await project(api, team)
    assert [m["title"] for m in after["milestones"]] == ["Valid"]
    assert chat_kinds(after) == [*chat_kinds(before), "MILESTONE_ADDED"]
    assert [e.kind for e in await emails_to(team.client.email)] == ["milestone_added"]


async def test_add_reports_every_problem_at_once(api: Api, team: Team) -> None:
    payload = await api.add_milestone(
        team.freelancer, team.project_id, "", dueDate="2020-01-01", description="d" * 2001
    )
    assert {e["field"][0] for e in payload["errors"]} == {"title", "dueDate", "description"}


@pytest.mark.usefixtures("subscriber_baseline")
async def test_locked_project_refuses_milestones(api: Api, server: RunningServer) -> None:
    team = await make_team(api, unlocked=False)
    async with WsClient.open(server.ws_url, team.client.token) as ws:
        op = await ws.subscribed(team.project_id)
        before = await project(api, team)
        assert before["viewerCanEditMilestones"] is False

        refused = await api.add_milestone(team.freelancer, team.project_id, "Kick-off", future(7))
        assert refused["milestone"] is None
        [error] = refused["errors"]
        assert (error["code"], error["field"]) == ("MILESTONES_LOCKED", None)
        assert error["message"]
        after = await project(api, team)
        assert after["milestones"] == [] and chat_kinds(after) == []
        assert after == before
        assert await emails_to(team.client.email) == []

        # The control: unlocked, the same call adds the milestone, posts it and e-mails it.
        await api.unlock(team.admin, team.project_id)
        # The first event the client sees is the unlock: the refused call posted nothing.
        assert (await ws.event(op))["kind"] == "MILESTONES_UNLOCKED"
        added = await api.add_milestone(team.freelancer, team.project_id, "Kick-off", future(7))
        assert added["errors"] == []
        event = await ws.event(op)
        assert event["kind"] == "MILESTONE_ADDED"
        assert event["milestone"]["id"] == added["milestone"]["id"]
    unlocked = await project(api, team)
    assert unlocked["viewerCanEditMilestones"] is True
    assert [m["title"] for m in unlocked["milestones"]] == ["Kick-off"]
    assert chat_kinds(unlocked) == ["MILESTONES_UNLOCKED", "MILESTONE_ADDED"]
    assert [e.kind for e in await emails_to(team.client.email)] == ["milestone_added"]


async def test_milestones_are_chronological_then_in_creation_order(api: Api, team: Team) -> None:
    for title, days in [("C", 20), ("A", 5), ("B1", 10), ("B2", 10), ("D", 60)]:
        assert (await api.add_milestone(team.freelancer, team.project_id, title, future(days)))[
            "errors"
        ] == []
    p = await project(api, team, "client")
    assert [m["title"] for m in p["milestones"]] == ["A", "B1", "B2", "C", "D"]
    assert p["milestoneProgress"] == {"total": 5, "completed": 0}
    # D falls on the completion date (make_team uses future(60)): no warning.
    assert p["scheduleWarnings"] == []


async def test_schedule_warning_when_last_milestone_is_not_on_completion_date(
    api: Api, team: Team
) -> None:
    await api.add_milestone(team.freelancer, team.project_id, "Early end", future(30))
    p = await project(api, team)
    assert [w["code"] for w in p["scheduleWarnings"]] == ["LAST_MILESTONE_NOT_ON_COMPLETION_DATE"]
    assert future(30) in p["scheduleWarnings"][0]["message"]


async def test_add_posts_to_chat_and_emails_the_client(api: Api, team: Team) -> None:
    payload = await api.add_milestone(
        team.freelancer,
        team.project_id,
        "  Data <model> review  ",
        future(7),
        description="Check the <b>joins</b>",
    )
    assert payload["errors"] == []
    assert payload["milestone"]["title"] == "Data <model> review"
    p = await project(api, team, "client")
    event = p["chat"]["edges"][-1]["node"]
    assert event["kind"] == "MILESTONE_ADDED"
    assert "Data <model> review" in event["body"]
    assert event["author"] is None
    assert event["actor"]["id"] == team.freelancer.id
    assert event["milestone"]["id"] == payload["milestone"]["id"]
    [email] = await emails_to(team.client.email)
    assert email.kind == "milestone_added"
    assert "Data <model> review" in email.subject
    assert "Data <model> review" in email.text_body
    assert "Data &lt;model&gt; review" in email.html_body
    assert "<b>joins</b>" not in email.html_body
    assert email.message_id.startswith("<") and email.message_id.endswith(">")


async def test_edit_records_old_and_new_values(api: Api, team: Team) -> None:
    added = await api.add_milestone(team.freelancer, team.project_id, "Draft", future(7))
    mid = added["milestone"]["id"]
    result = await api.data(
        EDIT,
        {"input": {"id": mid, "title": "Final", "dueDate": future(9)}},
        team.freelancer.token,
    )
    edited = result["editMilestone"]
    assert edited["errors"] == []
    assert edited["milestone"]["title"] == "Final"
    assert edited["milestone"]["description"] == ""
    event = (await project(api, team))["chat"]["edges"][-1]["node"]
    assert event["kind"] == "MILESTONE_EDITED"
    assert event["changes"] == [
        {"field": "title", "from": "Draft", "to": "Final"},
        {"field": "dueDate", "from": future(7), "to": future(9)},
    ]
    emails = await emails_to(team.client.email)
    assert [e.kind for e in emails] == ["milestone_added", "milestone_edited"]
    assert "Final" in emails[-1].subject
    assert "Draft → Final" in emails[-1].text_body
    assert f"{future(7)} → {future(9)}" in emails[-1].text_body


async def test_edit_to_same_values_is_silent(api: Api, team: Team) -> None:
    added = await api.add_milestone(team.freelancer, team.project_id, "Same", future(7))
    before = await project(api, team)
    result = await api.data(
        EDIT,
        {"input": {"id": added["milestone"]["id"], "title": " Same ", "dueDate": future(7)}},
        team.freelancer.token,
    )
    assert result["editMilestone"]["errors"] == []
    assert await project(api, team) == before
    assert len(await emails_to(team.client.email)) == 1

    # The control: an edit that changes the title posts and e-mails.
    changed = await api.data(
        EDIT,
        {"input": {"id": added["milestone"]["id"], "title": "Other", "dueDate": future(7)}},
        team.freelancer.token,
    )
    assert changed["editMilestone"]["errors"] == []
    assert chat_kinds(await project(api, team)) == [*chat_kinds(before), "MILESTONE_EDITED"]
    kinds = [e.kind for e in await emails_to(team.client.email)]
    assert kinds == ["milestone_added", "milestone_edited"]


async def test_past_due_milestone_keeps_its_date_but_cannot_move_into_the_past(
    api: Api, team: Team
) -> None:
    added = await api.add_milestone(team.freelancer, team.project_id, "Late", future(1))
    pk = pk_of(added["milestone"]["id"], "Milestone")
    past = dt.date.today() - dt.timedelta(days=3)
    await Milestone.filter(id=pk).update(due_date=past)
    assert (await project(api, team))["milestones"][0]["overdue"] is True
    kept = await api.data(
        EDIT,
        {"input": {"id": added["milestone"]["id"], "title": "Late!", "dueDate": past.isoformat()}},
        team.freelancer.token,
    )
    assert kept["editMilestone"]["errors"] == []
    moved = await api.data(
        EDIT,
        {"input": {"id": added["milestone"]["id"], "dueDate": "2020-01-01"}},
        team.freelancer.token,
    )
    assert [e["code"] for e in moved["editMilestone"]["errors"]] == ["IN_THE_PAST"]
    assert (await project(api, team))["milestones"][0]["dueDate"] == past.isoformat()


async def test_tick_and_untick(api: Api, team: Team) -> None:
    added = await api.add_milestone(team.freelancer, team.project_id, "Tick me", future(4))
    ref = {"input": {"id": added["milestone"]["id"], "completed": True}}
    ticked = (await api.data(TICK, ref, team.freelancer.token))["setMilestoneCompleted"]
    assert ticked["milestone"]["completed"] is True
    assert ticked["milestone"]["completedAt"].endswith("+00:00")
    assert ticked["milestone"]["completedBy"]["id"] == team.freelancer.id
    # Ticking a ticked milestone changes nothing and tells no one.
    again = (await api.data(TICK, ref, team.freelancer.token))["setMilestoneCompleted"]
    assert again["milestone"]["completedAt"] == ticked["milestone"]["completedAt"]
    ref["input"]["completed"] = False
    reopened = (await api.data(TICK, ref, team.freelancer.token))["setMilestoneCompleted"]
    assert reopened["milestone"] == {"completed": False, "completedAt": None, "completedBy": None}
    p = await project(api, team, "client")
    assert chat_kinds(p)[-3:] == ["MILESTONE_ADDED", "MILESTONE_COMPLETED", "MILESTONE_REOPENED"]
    kinds = [e.kind for e in await emails_to(team.client.email)]
    assert kinds == ["milestone_added", "milestone_completed", "milestone_reopened"]


async def test_delete_keeps_history_without_the_milestone(api: Api, team: Team) -> None:
    added = await api.add_milestone(team.freelancer, team.project_id, "Doomed", future(4))
    mid = added["milestone"]["id"]
    deleted = (await api.data(DELETE, {"input": {"id": mid}}, team.freelancer.token))[
        "deleteMilestone"
    ]
    assert deleted == {"errors": [], "deletedMilestoneId": mid, "project": {"milestones": []}}
    p = await project(api, team, "client")
    added_event, deleted_event = (e["node"] for e in p["chat"]["edges"][-2:])
    assert added_event["kind"] == "MILESTONE_ADDED" and added_event["milestone"] is None
    assert deleted_event["kind"] == "MILESTONE_DELETED" and "Doomed" in deleted_event["body"]
    assert [e.kind for e in await emails_to(team.client.email)][-1] == "milestone_deleted"
    again = await api.post(DELETE, {"input": {"id": mid}}, team.freelancer.token)
    assert again["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_unknown_or_malformed_ids_are_not_found(api: Api, team: Team) -> None:
    for bad in ["nope", team.project_id, "TWlsZXN0b25lOjk5OTk5OTk"]:
        body = await api.post(EDIT, {"input": {"id": bad, "title": "x"}}, team.freelancer.token)
        assert body["data"]["editMilestone"] is None
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
