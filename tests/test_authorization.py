"""Every mutation × every kind of caller: who may, who is told FORBIDDEN, who NOT_FOUND.

A refused mutation changes nothing: no project, no milestone, no chat event, no e-mail.
Each refusal is followed by the same call from a caller who may make it, which does
change what was compared.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest

from models import OutboxEmail
from schema.ids import pk_of
from tests.support import PASSWORD, Account, Api, RunningServer, Team, future, make_team

ACTORS = ["anonymous", "outsider", "client", "freelancer", "admin"]

# mutation -> expected outcome per actor: "ok" or a top-level extensions.code
EXPECTED: dict[str, dict[str, str]] = {
    "signUp": dict.fromkeys(ACTORS, "ok"),
    "logIn": dict.fromkeys(ACTORS, "ok"),
    "logOut": {"anonymous": "UNAUTHENTICATED"} | dict.fromkeys(ACTORS[1:], "ok"),
    "logOutEverywhere": {"anonymous": "UNAUTHENTICATED"} | dict.fromkeys(ACTORS[1:], "ok"),
    "updateNotificationSettings": {"anonymous": "UNAUTHENTICATED"}
    | dict.fromkeys(ACTORS[1:], "ok"),
    "rotateCalendarFeed": {"anonymous": "UNAUTHENTICATED"} | dict.fromkeys(ACTORS[1:], "ok"),
    "createProject": {
        "anonymous": "UNAUTHENTICATED",
        "outsider": "FORBIDDEN",
        "client": "ok",
        "freelancer": "FORBIDDEN",
        "admin": "ok",
    },
    **{
        name: {
            "anonymous": "UNAUTHENTICATED",
            "outsider": "NOT_FOUND",
            "client": "FORBIDDEN",
            "freelancer": "FORBIDDEN",
            "admin": "ok",
        }
        for name in ("recordInitialPayment", "unlockMilestones")
    },
    **{
        name: {
            "anonymous": "UNAUTHENTICATED",
            "outsider": "NOT_FOUND",
            "client": "FORBIDDEN",
            "freelancer": "ok",
            "admin": "FORBIDDEN",
        }
        for name in ("addMilestone", "editMilestone", "setMilestoneCompleted", "deleteMilestone")
    },
    # The client's word on finished work: theirs alone, not even an admin's.
    **{
        name: {
            "anonymous": "UNAUTHENTICATED",
            "outsider": "NOT_FOUND",
            "client": "ok",
            "freelancer": "FORBIDDEN",
            "admin": "FORBIDDEN",
        }
        for name in ("acceptMilestone", "requestMilestoneChanges")
    },
    "setProjectTimeZone": {
        "anonymous": "UNAUTHENTICATED",
        "outsider": "NOT_FOUND",
        "client": "ok",
        "freelancer": "FORBIDDEN",
        "admin": "ok",
    },
    "sendChatMessage": {"anonymous": "UNAUTHENTICATED", "outsider": "NOT_FOUND"}
    | dict.fromkeys(("client", "freelancer", "admin"), "ok"),
}


async def _milestone(api: Api, team: Team, mutation: str = "") -> str:
    """A milestone to call `mutation` on: completed for the client's word on it."""
    added = await api.add_milestone(team.freelancer, team.project_id, "Fixture milestone")
    milestone_id: str = added["milestone"]["id"]
    if mutation in REVIEW_MUTATIONS:
        ticked = await _call_on(api, "setMilestoneCompleted", milestone_id, team.freelancer)
        assert ticked["data"]["setMilestoneCompleted"]["errors"] == [], ticked
    return milestone_id


def _doc(name: str, input_type: str, selection: str = "errors { code }") -> str:
    return f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {selection} }} }}"


async def _call(api: Api, name: str, team: Team, caller: Account | None) -> dict[str, Any]:
    token = caller.token if caller else None
    if name == "signUp":
        n = pk_of(team.project_id, "Project")
        variables = {
            "input": {
                "email": f"new-{n}-{id(caller)}@example.com",
                "password": PASSWORD,
                "name": "New",
                "role": "CLIENT",
            }
        }
        return await api.post(_doc("signUp", "SignUpInput"), variables, token)
    if name == "logIn":
        variables = {"input": {"email": team.client.email, "password": PASSWORD}}
        return await api.post(_doc("logIn", "LogInInput"), variables, token)
    if name == "logOut":
        if caller is not None:  # log out a session of its own, keeping the shared one
            login = await api.data(
                _doc("logIn", "LogInInput", "token"),
                {"input": {"email": caller.email, "password": PASSWORD}},
            )
            token = login["logIn"]["token"]
        return await api.post("mutation { logOut }", None, token)
    if name == "logOutEverywhere":
        if caller is not None:  # an account of the same kind, so the shared one stays signed in
            fresh = await (api.admin() if caller.role == "ADMIN" else api.sign_up(caller.role))
            token = fresh.token
        return await api.post("mutation { logOutEverywhere }", None, token)
    if name == "updateNotificationSettings":
        # The default zone: the shared accounts keep getting every e-mail at once.
        variables = {"input": {"timeZone": "UTC"}}
        return await api.post(_doc(name, "UpdateNotificationSettingsInput"), variables, token)
    if name == "rotateCalendarFeed":
        return await api.post("mutation { rotateCalendarFeed { errors { code } } }", None, token)
    if name == "createProject":
        fields = {
            "title": "Another project",
            "freelancerId": team.freelancer.id,
            "completionDate": future(40),
        }
        if caller is not None and caller.role == "ADMIN":
            fields["clientId"] = team.client.id
        return await api.post(_doc(name, "CreateProjectInput"), {"input": fields}, token)
    if name in ("recordInitialPayment", "unlockMilestones"):
        ref = {"input": {"projectId": team.project_id}}
        return await api.post(_doc(name, "ProjectRefInput"), ref, token)
    if name == "addMilestone":
        fields = {"projectId": team.project_id, "title": "Kick-off", "dueDate": future(3)}
        return await api.post(_doc(name, "AddMilestoneInput"), {"input": fields}, token)
    if name == "setProjectTimeZone":
        fields = {"projectId": team.project_id, "timeZone": "Europe/Berlin"}
        return await api.post(_doc(name, "SetProjectTimeZoneInput"), {"input": fields}, token)
    if name == "sendChatMessage":
        fields = {"projectId": team.project_id, "body": "Hello"}
        return await api.post(_doc(name, "SendChatMessageInput"), {"input": fields}, token)
    return await _call_on(api, name, await _milestone(api, team, name), caller)


REVIEW_MUTATIONS = ("acceptMilestone", "requestMilestoneChanges")
MILESTONE_MUTATIONS = (
    "editMilestone",
    "setMilestoneCompleted",
    "deleteMilestone",
    *REVIEW_MUTATIONS,
)
# Non-null Boolean results; they change sessions, which the fingerprint does not cover.
SESSION_MUTATIONS = ("logOut", "logOutEverywhere")
# Mutations whose changes (sessions, feed URLs, the caller's own settings) the fingerprint
# does not cover.
UNSEEN_CHANGES = (*SESSION_MUTATIONS, "rotateCalendarFeed", "updateNotificationSettings")


async def _fingerprint(api: Api, team: Team) -> tuple[Any, ...]:
    """What a mutation could change: the project, its chat and e-mails, the project count.

    The admin sees every project, so a project created by anyone is counted.
    """
    data = await api.data(
        """query($id: ID!) { project(id: $id) {
             initialPaymentCompletedAt milestonesUnlocked timeZone
             milestones { id title completed state }
             chat(last: 100) { edges { node { id } } } }
           projects { totalCount } }""",
        {"id": team.project_id},
        team.admin.token,
    )
    emails = await OutboxEmail.filter(project_id=pk_of(team.project_id, "Project")).count()
    return (data, emails)


@pytest.fixture(scope="module")
async def people(server: RunningServer) -> Team:
    """The four kinds of signed-in caller, shared by every case; each case gets a new project."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        return await make_team(Api(client), unlocked=False)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("mutation", list(EXPECTED))
async def test_mutation_access(api: Api, people: Team, mutation: str, actor: str) -> None:
    # Payment and unlock need a project that is not unlocked yet to show a real change.
    fresh = mutation in ("recordInitialPayment", "unlockMilestones")
    payment_required = mutation != "unlockMilestones"
    project_id = await api.create_project(
        people.client, people.freelancer, payment_required=payment_required
    )
    if not fresh:
        await api.unlock(people.admin, project_id, pay=payment_required)
    team = dataclasses.replace(people, project_id=project_id)
    caller = None if actor == "anonymous" else getattr(team, actor)
    expected = EXPECTED[mutation][actor]

    if expected == "ok":
        body = await _call(api, mutation, team, caller)
        assert "errors" not in body, body
        payload = body["data"][mutation]
        if isinstance(payload, dict):
            assert payload["errors"] == [], payload
        else:
            assert payload is True
        return

    milestone_id = ""
    if mutation in MILESTONE_MUTATIONS:
        # The milestone the call targets is created first; compare state after that.
        milestone_id = await _milestone(api, team, mutation)
        before = await _fingerprint(api, team)
        body = await _call_on(api, mutation, milestone_id, caller)
    else:
        before = await _fingerprint(api, team)
        body = await _call(api, mutation, team, caller)
    if mutation in SESSION_MUTATIONS:
        assert body["data"] is None
    else:
        assert body["data"][mutation] is None
    codes = [e["extensions"]["code"] for e in body["errors"]]
    assert codes == [expected], body
    assert await _fingerprint(api, team) == before

    if mutation in UNSEEN_CHANGES:
        return  # not in the fingerprint: the refusal above is the whole check
    # The control: the same call by a caller who may make it changes the fingerprint.
    allowed = getattr(team, next(a for a in ACTORS if EXPECTED[mutation][a] == "ok"))
    if mutation in MILESTONE_MUTATIONS:
        control = await _call_on(api, mutation, milestone_id, allowed)
    else:
        control = await _call(api, mutation, team, allowed)
    assert "errors" not in control, control
    assert control["data"][mutation]["errors"] == [], control
    assert await _fingerprint(api, team) != before


async def _call_on(
    api: Api, mutation: str, milestone_id: str, caller: Account | None
) -> dict[str, Any]:
    token = caller.token if caller else None
    inputs = {
        "editMilestone": ("EditMilestoneInput", {"id": milestone_id, "title": "Renamed"}),
        "setMilestoneCompleted": (
            "SetMilestoneCompletedInput",
            {"id": milestone_id, "completed": True},
        ),
        "deleteMilestone": ("DeleteMilestoneInput", {"id": milestone_id}),
        "acceptMilestone": ("AcceptMilestoneInput", {"milestoneId": milestone_id}),
        "requestMilestoneChanges": (
            "RequestMilestoneChangesInput",
            {"milestoneId": milestone_id, "reason": "The chart needs axis labels."},
        ),
    }
    input_type, fields = inputs[mutation]
    return await api.post(_doc(mutation, input_type), {"input": fields}, token)
