"""Resuming chatEvents with `after`: the missed messages first, in order, then live ones.

Black-box over graphql-transport-ws against the suite's server: a client that lost its
socket resubscribes with the ID of the last message it saw and gets every later one exactly
once, in order, however the messages race the subscription being set up; more missed
messages than one replay holds, and IDs that are not messages of the project, are refused
with BAD_USER_INPUT before anything is sent.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
from typing import Any

import pytest

from schema.pagination import MAX_PAGE
from tests.support import Account, Api, RunningServer, Team, make_team, pk
from tests.support_ws import SEND, WsClient, drain_all, error_codes, wait_for_subscribers

pytestmark = pytest.mark.usefixtures("subscriber_baseline")

RESUME = """subscription($id: ID!, $after: ID) {
  chatEvents(projectId: $id, after: $after) { id kind body } }"""

_ops = itertools.count(1)


async def post(api: Api, account: Account, project_id: str, body: str) -> str:
    """Post a chat message; returns its global ID."""
    data = await api.data(SEND, {"input": {"projectId": project_id, "body": body}}, account.token)
    return data["sendChatMessage"]["message"]["id"]


async def post_many(api: Api, team: Team, bodies: list[str]) -> list[str]:
    """Post concurrently, ten at a time; returns the IDs in commit (id) order."""
    ids: list[str] = []
    for start in range(0, len(bodies), 10):
        chunk = bodies[start : start + 10]
        ids += await asyncio.gather(*(post(api, team.client, team.project_id, b) for b in chunk))
    return sorted(ids, key=pk)


async def resume(ws: WsClient, project_id: str, after: str | None) -> str:
    """Subscribe to `project_id`'s chat from after `after`; returns the operation id."""
    op_id = f"resume-{next(_ops)}"
    variables = {"id": project_id, "after": after}
    await ws.send(
        {"id": op_id, "type": "subscribe", "payload": {"query": RESUME, "variables": variables}}
    )
    return op_id


async def events(ws: WsClient, op_id: str, count: int) -> list[dict[str, Any]]:
    return [await ws.event(op_id) for _ in range(count)]


async def newest_id(api: Api, team: Team) -> str:
    data = await api.data(
        "query($id: ID!) { project(id: $id) { chat(last: 1) { edges { node { id } } } } }",
        {"id": team.project_id},
        team.client.token,
    )
    return data["project"]["chat"]["edges"][0]["node"]["id"]


async def test_a_client_back_from_a_lost_socket_gets_what_it_missed_then_live_ones(
    api: Api, server: RunningServer
) -> None:
    team = await make_team(api)
    async with WsClient.open(server.ws_url, team.client.token) as ws:
        op = await resume(ws, team.project_id, None)
        await wait_for_subscribers(1)
        sent = [await post(api, team.freelancer, team.project_id, f"seen {i}") for i in range(3)]
        seen = await events(ws, op, 3)
        assert [e["id"] for e in seen] == sent
    # Away: the socket is gone, the chat goes on.
    missed = await post_many(api, team, [f"missed {i}" for i in range(5)])
    async with WsClient.open(server.ws_url, team.client.token) as ws:
        op = await resume(ws, team.project_id, seen[-1]["id"])
        replayed = await events(ws, op, 5)
        assert [e["id"] for e in replayed] == missed
        assert {e["body"] for e in replayed} == {f"missed {i}" for i in range(5)}
        live = [await post(api, team.freelancer, team.project_id, f"live {i}") for i in range(2)]
        assert [e["id"] for e in await events(ws, op, 2)] == live
        await ws.nothing(0.3)


@pytest.mark.parametrize("feed", ["fresh", "running"])
async def test_messages_racing_the_resubscription_arrive_once_each_in_order(
    api: Api, server: RunningServer, feed: str
) -> None:
    # "running": another subscriber keeps the project's feed going, so the resuming one
    # joins it mid-flight; "fresh": the resuming subscriber starts the feed itself.
    team = await make_team(api)
    seen = await post(api, team.client, team.project_id, "last seen")
    before = await post_many(api, team, [f"before {i}" for i in range(3)])
    async with (
        WsClient.open(server.ws_url, team.admin.token) as other,
        WsClient.open(server.ws_url, team.client.token) as ws,
    ):
        if feed == "running":
            await resume(other, team.project_id, None)
            await wait_for_subscribers(1)

        async def racing(i: int) -> str:
            await asyncio.sleep(0.003 * i)  # spread over the time the subscription takes
            return await post(api, team.freelancer, team.project_id, f"race {i}")

        sending = [asyncio.create_task(racing(i)) for i in range(30)]
        # Subscribe once about a third are in, while the rest are still being sent.
        for finished in itertools.islice(asyncio.as_completed(sending), 10):
            await finished
        op = await resume(ws, team.project_id, seen)
        raced = await asyncio.gather(*sending)
        expected = [*before, *sorted(raced, key=pk)]
        received = await events(ws, op, len(expected))
        assert [e["id"] for e in received] == expected
        await ws.nothing(0.3)
        # Read what the other subscriber was sent, so that its socket closes promptly.
        await drain_all(other)


async def test_after_the_newest_message_replays_nothing_and_goes_live(
    api: Api, server: RunningServer
) -> None:
    team = await make_team(api)
    await post_many(api, team, [f"old {i}" for i in range(3)])
    previous = await newest_id(api, team)
    newest = await post(api, team.client, team.project_id, "newest")
    async with WsClient.open(server.ws_url, team.client.token) as ws:
        # The control: resuming from the message before it does replay it.
        control = await resume(ws, team.project_id, previous)
        assert (await ws.event(control))["id"] == newest
        op = await resume(ws, team.project_id, newest)
        await wait_for_subscribers(2)
        await ws.nothing(0.3)
        fresh = await post(api, team.freelancer, team.project_id, "fresh")
        got = [await ws.receive(), await ws.receive()]
        assert {m["id"]: m["payload"]["data"]["chatEvents"]["id"] for m in got} == {
            control: fresh,
            op: fresh,
        }
        await ws.nothing(0.3)


def _forged_message_id() -> str:
    # Shaped like an ID of ours, naming a message, with a MAC that does not verify.
    return base64.urlsafe_b64encode(b"ChatMessage:1" + bytes(12)).decode().rstrip("=")


@pytest.mark.parametrize("kind", ["other project's message", "malformed", "forged", "project"])
async def test_an_after_that_is_not_a_message_of_the_project_is_refused(
    api: Api, server: RunningServer, kind: str
) -> None:
    team = await make_team(api)
    # The admin may see both projects: the refusal is about the argument, not access.
    other = await make_team(api)
    after = {
        "other project's message": await post(api, other.client, other.project_id, "elsewhere"),
        "malformed": "not an id",
        "forged": _forged_message_id(),
        "project": team.project_id,
    }[kind]
    async with WsClient.open(server.ws_url, team.admin.token) as ws:
        op = await resume(ws, team.project_id, after)
        refused = await ws.receive()
        assert (refused["type"], refused["id"]) == ("error", op), refused
        assert error_codes(refused) == ["BAD_USER_INPUT"]
        assert refused["payload"][0]["extensions"]["argument"] == "after"
        # Nothing more for it; the control, subscribed after it, receives the next message.
        control = await resume(ws, team.project_id, None)
        await wait_for_subscribers(1)
        posted = await post(api, team.client, team.project_id, "after the refusal")
        assert (await ws.event(control))["id"] == posted
        await ws.nothing(0.3)


async def test_more_missed_messages_than_a_replay_holds_are_refused_with_the_way_back(
    api: Api, server: RunningServer
) -> None:
    team = await make_team(api)
    seen = await post(api, team.client, team.project_id, "last seen")
    missed = await post_many(api, team, [f"missed {i}" for i in range(MAX_PAGE + 1)])
    async with WsClient.open(server.ws_url, team.client.token) as ws:
        op = await resume(ws, team.project_id, seen)
        refused = await ws.receive()
        assert (refused["type"], refused["id"]) == ("error", op), refused
        assert error_codes(refused) == ["BAD_USER_INPUT"]
        assert "project { chat }" in refused["payload"][0]["message"]
        # Exactly a replay's worth is replayed whole, then live ones follow.
        op = await resume(ws, team.project_id, missed[0])
        replayed = await events(ws, op, MAX_PAGE)
        assert [e["id"] for e in replayed] == missed[1:]
        live = await post(api, team.freelancer, team.project_id, "live")
        assert (await ws.event(op))["id"] == live
        # The way back the refusal names: the newest message read, from there on.
        op = await resume(ws, team.project_id, await newest_id(api, team))
        await wait_for_subscribers(2)  # the previous operation, still live, and this one
        await ws.nothing(0.3)
