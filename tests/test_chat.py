"""The project chat: sending messages and paging through them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import Api, Team, make_team

SEND = """mutation($input: SendChatMessageInput!) { sendChatMessage(input: $input) {
  errors { code field } message { id kind body author { id } actor { id } milestone { id } } } }"""
CHAT = """query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  project(id: $id) { chat(first: $first, after: $after, last: $last, before: $before) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { body } } } } }"""


@pytest.fixture
async def team(api: Api) -> Team:
    return await make_team(api)


async def send(api: Api, team: Team, body: str, as_: str = "client") -> dict[str, Any]:
    variables = {"input": {"projectId": team.project_id, "body": body}}
    return (await api.data(SEND, variables, getattr(team, as_).token))["sendChatMessage"]


async def page(api: Api, team: Team, **args: Any) -> dict[str, Any]:
    data = await api.data(CHAT, {"id": team.project_id, **args}, team.client.token)
    return data["project"]["chat"]


def bodies(chat: dict[str, Any]) -> list[str]:
    return [e["node"]["body"] for e in chat["edges"]]


async def test_members_and_admins_write(api: Api, team: Team) -> None:
    for who in ("client", "freelancer", "admin"):
        sent = await send(api, team, f"  hi from {who}  ", who)
        assert sent["errors"] == []
        message = sent["message"]
        assert message["kind"] == "MESSAGE" and message["body"] == f"hi from {who}"
        assert message["author"]["id"] == message["actor"]["id"] == getattr(team, who).id
        assert message["milestone"] is None


@pytest.mark.parametrize(("body", "code"), [("   ", "BLANK"), ("x" * 4001, "TOO_LONG")])
async def test_bad_messages_are_refused(api: Api, team: Team, body: str, code: str) -> None:
    before = await page(api, team)
    sent = await send(api, team, body)
    assert [(e["code"], e["field"]) for e in sent["errors"]] == [(code, ["body"])]
    assert sent["message"] is None
    assert await page(api, team) == before
    # The control: a valid message from the same sender shows on the same page.
    assert (await send(api, team, "fine"))["errors"] == []
    assert bodies(await page(api, team)) == [*bodies(before), "fine"]


async def test_paging(api: Api, team: Team) -> None:
    for i in range(25):
        await send(api, team, f"m{i}")
    everything = ["Milestones are unlocked"] + [f"m{i}" for i in range(25)]

    newest = await page(api, team)  # default: the newest 20, oldest first
    assert bodies(newest) == everything[-20:]
    assert newest["pageInfo"]["hasPreviousPage"] is True
    assert newest["pageInfo"]["hasNextPage"] is False

    older = await page(api, team, last=20, before=newest["pageInfo"]["startCursor"])
    assert [b.split(":")[0] for b in bodies(older)] == everything[:6]
    assert older["pageInfo"]["hasPreviousPage"] is False
    assert older["pageInfo"]["hasNextPage"] is True

    first = await page(api, team, first=10)
    assert [b.split(":")[0] for b in bodies(first)] == everything[:10]
    following = await page(api, team, first=10, after=first["pageInfo"]["endCursor"])
    assert bodies(following) == everything[10:20]
    assert following["pageInfo"]["hasNextPage"] is True
    assert following["pageInfo"]["hasPreviousPage"] is True


@pytest.mark.parametrize(
    "args", [{"first": 0}, {"last": 101}, {"after": "garbage"}, {"first": 2, "last": 2}]
)
async def test_bad_paging_arguments(api: Api, team: Team, args: dict[str, Any]) -> None:
    body = await api.post(CHAT, {"id": team.project_id, **args}, team.client.token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
