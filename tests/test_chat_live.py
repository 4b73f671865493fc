"""A live chatEvents subscription (web.live_delivery) ends as any operation does, and re-checks its
token with every event: `complete` from the client, and a token that stopped working without
this process hearing of it (as when another process, without Redis, logged it out)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from infra import events
from models import AccessToken, hash_token
from tests.support import Api, RunningServer, make_team
from tests.support_ws import SEND, WsClient, error_codes, wait_for_subscribers

pytestmark = pytest.mark.usefixtures("subscriber_baseline")


async def two(ws: WsClient) -> list[dict[str, Any]]:
    return [await ws.receive(), await ws.receive()]


async def subscribers_become(count: int) -> None:
    """Until this process's feeds have `count` subscribers (a second at most)."""
    for _ in range(100):
        if events.feeds().subscriber_count == count:
            return
        await asyncio.sleep(0.01)
    assert events.feeds().subscriber_count == count


def post(project_id: str, body: str) -> dict[str, object]:
    return {"input": {"projectId": project_id, "body": body}}


async def test_complete_from_the_client_ends_only_that_subscription(
    api: Api, server: RunningServer
) -> None:
    team = await make_team(api)
    async with WsClient.open(server.ws_url, team.client.token) as ws:
        kept = await ws.subscribe(team.project_id)
        ended = await ws.subscribe(team.project_id)
        await wait_for_subscribers(2)
        await api.data(SEND, post(team.project_id, "both"), team.freelancer.token)
        got = {(m["id"], m["payload"]["data"]["chatEvents"]["body"]) for m in await two(ws)}
        assert got == {(kept, "both"), (ended, "both")}

        before = events.feeds().subscriber_count
        await ws.send({"id": ended, "type": "complete"})
        await subscribers_become(before - 1)
        await api.data(SEND, post(team.project_id, "one"), team.freelancer.token)
        assert (await ws.event(kept))["body"] == "one"
        await ws.nothing(0.3)

        # The id is free again, and names a new subscription.
        await ws.send(
            {
                "id": ended,
                "type": "subscribe",
                "payload": {
                    "query": "subscription($id: ID!) { chatEvents(projectId: $id) { kind } }",
                    "variables": {"id": team.project_id},
                },
            }
        )
        await subscribers_become(before)
        await api.data(SEND, post(team.project_id, "two"), team.freelancer.token)
        by_op = {}
        for _ in range(2):
            message = await ws.receive()
            assert message["type"] == "next", message
            by_op[message["id"]] = message["payload"]["data"]["chatEvents"]
        assert by_op[kept]["body"] == "two"
        assert by_op[ended] == {"kind": "MESSAGE"}


async def test_a_token_ended_unheard_of_is_refused_at_the_next_event(
    api: Api, server: RunningServer
) -> None:
    team = await make_team(api)
    async with (
        WsClient.open(server.ws_url, team.client.token) as ws,
        WsClient.open(server.ws_url, team.freelancer.token) as control,
    ):
        op = await ws.subscribe(team.project_id)
        control_op = await control.subscribe(team.project_id)
        await wait_for_subscribers(2)
        # Gone from the database with no announcement: this process's sockets are not told.
        await AccessToken.filter(token_hash=hash_token(team.client.token)).delete()
        await api.data(SEND, post(team.project_id, "after"), team.freelancer.token)
        # The control: the event was sent, to a subscriber still signed in.
        assert (await control.event(control_op))["body"] == "after"
        refused = await ws.receive()
        assert (refused["id"], refused["type"]) == (op, "next")
        assert refused["payload"]["data"] is None
        assert error_codes(refused) == ["UNAUTHENTICATED"]
        assert await ws.receive() == {"id": op, "type": "complete"}
        await api.data(SEND, post(team.project_id, "later"), team.freelancer.token)
        assert (await control.event(control_op))["body"] == "later"
        await ws.nothing()
