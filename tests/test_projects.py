"""Projects: creation, visibility, pagination, payment and the admin unlock."""

from __future__ import annotations

import pytest

from models import OutboxEmail
from tests.support import Api, future, make_team

CREATE = """mutation($input: CreateProjectInput!) { createProject(input: $input) {
  errors { code field message }
  project { id title client { id email } freelancer { id email } initialPaymentRequired
            milestonesUnlocked viewerCanEditMilestones completionDate createdAt } } }"""
REF = "mutation($input: ProjectRefInput!) {{ {name}(input: $input) {{ errors {{ code field }} project {{ milestonesUnlocked milestonesUnlockedAt initialPaymentCompletedAt }} }} }}"
PROJECTS = """query($first: Int, $after: String) { projects(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id } } } }"""


async def test_client_creates_a_project(api: Api) -> None:
    client, freelancer = await api.sign_up("CLIENT"), await api.sign_up("FREELANCER")
    variables = {
        "input": {
            "title": "  Churn model  ",
            "freelancerId": freelancer.id,
            "completionDate": future(30),
        }
    }
    payload = (await api.data(CREATE, variables, client.token))["createProject"]
    assert payload["errors"] == []
    project = payload["project"]
    assert project["title"] == "Churn model"
    assert project["client"] == {"id": client.id, "email": client.email}
    assert project["freelancer"] == {"id": freelancer.id, "email": freelancer.email}
    assert project["initialPaymentRequired"] is True
    assert project["milestonesUnlocked"] is False
    assert project["createdAt"].endswith("+00:00")


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"title": ""}, "BLANK", "title"),
        ({"title": "t" * 201}, "TOO_LONG", "title"),
        ({"description": "d" * 5001}, "TOO_LONG", "description"),
        ({"completionDate": "2020-02-02"}, "IN_THE_PAST", "completionDate"),
        ({"freelancerId": "bogus"}, "INVALID", "freelancerId"),
    ],
)
async def test_create_rejects_bad_input(
    api: Api, overrides: dict[str, str], code: str, field: str
) -> None:
    client, freelancer = await api.sign_up("CLIENT"), await api.sign_up("FREELANCER")
    fields = {"title": "Ok", "freelancerId": freelancer.id, "completionDate": future(9)}
    payload = (await api.data(CREATE, {"input": fields | overrides}, client.token))["createProject"]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, [field])]
    assert payload["project"] is None
    assert (await api.data(PROJECTS, None, client.token))["projects"]["totalCount"] == 0
    # The control: the same client with valid input does get a project.
    made = (await api.data(CREATE, {"input": fields}, client.token))["createProject"]
    assert made["errors"] == []
    assert (await api.data(PROJECTS, None, client.token))["projects"]["totalCount"] == 1


async def test_freelancer_must_be_a_freelancer(api: Api) -> None:
    client, other_client = await api.sign_up("CLIENT"), await api.sign_up("CLIENT")
    fields = {"title": "Ok", "freelancerId": other_client.id, "completionDate": future(9)}
    payload = (await api.data(CREATE, {"input": fields}, client.token))["createProject"]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID", ["freelancerId"])]


async def test_admin_creates_for_a_client(api: Api) -> None:
    admin = await api.admin()
    client, freelancer = await api.sign_up("CLIENT"), await api.sign_up("FREELANCER")
    fields = {"title": "Ops", "freelancerId": freelancer.id, "completionDate": future(9)}
    missing = (await api.data(CREATE, {"input": fields}, admin.token))["createProject"]
    assert [(e["code"], e["field"]) for e in missing["errors"]] == [("BLANK", ["clientId"])]
    made = (await api.data(CREATE, {"input": fields | {"clientId": client.id}}, admin.token))[
        "createProject"
    ]
    assert made["project"]["client"]["id"] == client.id
    listed = (await api.data(PROJECTS, None, client.token))["projects"]
    assert [e["node"]["id"] for e in listed["edges"]] == [made["project"]["id"]]


async def test_outsiders_cannot_learn_a_project_exists(api: Api) -> None:
    team = await make_team(api)
    for query in (
        "query($id: ID!) { project(id: $id) { id } }",
        "query($id: ID!) { node(id: $id) { id } }",
    ):
        hidden = await api.post(query, {"id": team.project_id}, team.outsider.token)
        missing = await api.post(query, {"id": "UHJvamVjdDo5OTk5OTk5"}, team.outsider.token)
        for body in (hidden, missing):
            assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
            assert body["errors"][0]["message"] == missing["errors"][0]["message"]
    admin_view = await api.data(
        "query($id: ID!) { node(id: $id) { ... on Project { id client { email } } } }",
        {"id": team.project_id},
        team.admin.token,
    )
    assert admin_view["node"]["client"]["email"] == team.client.email


async def test_email_visibility(api: Api) -> None:
    team = await make_team(api)
    query = "query($id: ID!) { node(id: $id) { ... on User { id email } } }"
    shared = await api.data(query, {"id": team.freelancer.id}, team.client.token)
    assert shared["node"]["email"] == team.freelancer.email
    stranger = await api.post(query, {"id": team.freelancer.id}, team.outsider.token)
    assert stranger["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # The admin who unlocked is shown on the event, but not their address.
    chat = await api.data(
        "query($id: ID!) { project(id: $id) { chat { edges { node { actor { id email } } } } } }",
        {"id": team.project_id},
        team.client.token,
    )
    actor = chat["project"]["chat"]["edges"][0]["node"]["actor"]
    assert actor == {"id": team.admin.id, "email": None}


async def test_projects_newest_first_with_pages(api: Api) -> None:
    client = await api.sign_up("CLIENT")
    freelancer = await api.sign_up("FREELANCER")
    ids = [await api.create_project(client, freelancer, title=f"P{i}") for i in range(5)]
    first = (await api.data(PROJECTS, {"first": 2}, client.token))["projects"]
    assert first["totalCount"] == 5
    assert [e["node"]["id"] for e in first["edges"]] == ids[::-1][:2]
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["hasPreviousPage"] is False
    rest = (
        await api.data(
            PROJECTS, {"first": 10, "after": first["pageInfo"]["endCursor"]}, client.token
        )
    )["projects"]
    assert [e["node"]["id"] for e in rest["edges"]] == ids[::-1][2:]
    assert rest["pageInfo"]["hasNextPage"] is False
    assert rest["pageInfo"]["hasPreviousPage"] is True
    # The freelancer sees the same projects; an unrelated user none.
    theirs = (await api.data(PROJECTS, None, freelancer.token))["projects"]
    assert theirs["totalCount"] == 5
    other = await api.sign_up("FREELANCER")
    assert (await api.data(PROJECTS, None, other.token))["projects"]["totalCount"] == 0


@pytest.mark.parametrize("first", [0, 101, -1])
async def test_page_size_is_capped(api: Api, first: int) -> None:
    client = await api.sign_up("CLIENT")
    body = await api.post(PROJECTS, {"first": first}, client.token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_unlock_waits_for_payment_and_is_idempotent(api: Api) -> None:
    team = await make_team(api, unlocked=False)
    ref = {"input": {"projectId": team.project_id}}
    pending = (await api.data(REF.format(name="unlockMilestones"), ref, team.admin.token))[
        "unlockMilestones"
    ]
    assert [(e["code"], e["field"]) for e in pending["errors"]] == [
        ("INITIAL_PAYMENT_PENDING", None)
    ]
    assert pending["project"] is None

    paid = (await api.data(REF.format(name="recordInitialPayment"), ref, team.admin.token))[
        "recordInitialPayment"
    ]
    paid_at = paid["project"]["initialPaymentCompletedAt"]
    assert paid_at is not None
    again = (await api.data(REF.format(name="recordInitialPayment"), ref, team.admin.token))[
        "recordInitialPayment"
    ]
    assert again["project"]["initialPaymentCompletedAt"] == paid_at

    unlocked = (await api.data(REF.format(name="unlockMilestones"), ref, team.admin.token))[
        "unlockMilestones"
    ]
    assert unlocked["errors"] == [] and unlocked["project"]["milestonesUnlocked"] is True
    second = (await api.data(REF.format(name="unlockMilestones"), ref, team.admin.token))[
        "unlockMilestones"
    ]
    assert second["project"] == unlocked["project"]

    chat = await api.data(
        "query($id: ID!) { project(id: $id) { viewerCanEditMilestones chat { edges { node { kind body } } } } }",
        {"id": team.project_id},
        team.freelancer.token,
    )
    assert [e["node"]["kind"] for e in chat["project"]["chat"]["edges"]] == ["MILESTONES_UNLOCKED"]
    assert chat["project"]["viewerCanEditMilestones"] is True
    emails = await OutboxEmail.filter(to_address=team.freelancer.email)
    assert [e.kind for e in emails] == ["milestones_unlocked"]
    assert await OutboxEmail.filter(to_address=team.client.email).count() == 0


async def test_project_without_required_payment_unlocks_at_once(api: Api) -> None:
    team = await make_team(api, unlocked=False, payment_required=False)
    await api.unlock(team.admin, team.project_id, pay=False)
    project = await api.data(
        "query($id: ID!) { project(id: $id) { milestonesUnlocked initialPaymentCompletedAt } }",
        {"id": team.project_id},
        team.client.token,
    )
    assert project["project"] == {"milestonesUnlocked": True, "initialPaymentCompletedAt": None}
