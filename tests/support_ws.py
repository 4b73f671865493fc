"""Chat-event helpers: a graphql-transport-ws client and the documents the tests send.

`WsClient` speaks the protocol directly with the `websockets` library, so that close codes,
`error` messages and "nothing arrived" are all observable.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from infra import events
from tests.support import Account, Api, Team, pk

CHAT_EVENTS = """subscription($id: ID!) { chatEvents(projectId: $id) {
  id kind body createdAt
  author { id name email }
  actor { id name role }
  milestone { id title completed completedBy { id } }
  changes { field from to }
  project { id title milestoneProgress { total completed } }
} }"""

SEND = """mutation($input: SendChatMessageInput!) {
  sendChatMessage(input: $input) { errors { code } message { id } } }"""
EDIT = """mutation($input: EditMilestoneInput!) {
  editMilestone(input: $input) { errors { code } } }"""
COMPLETE = """mutation($input: SetMilestoneCompletedInput!) {
  setMilestoneCompleted(input: $input) { errors { code } } }"""
DELETE = """mutation($input: DeleteMilestoneInput!) {
  deleteMilestone(input: $input) { errors { code } } }"""

_ids = itertools.count(1)


class WsClient:
    """A graphql-transport-ws client: one connection, any number of operations."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls,
        url: str,
        token: str | None = None,
        *,
        header_token: str | None = None,
        origin: str | None = None,
        init: bool = True,
    ) -> AsyncIterator[WsClient]:
        headers = {"Authorization": f"Bearer {header_token}"} if header_token else {}
        async with connect(
            url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            additional_headers=headers,
            origin=origin,  # type: ignore[arg-type]
            open_timeout=5,
        ) as ws:
            client = cls(ws)
            if init:
                payload = {"Authorization": f"Bearer {token}"} if token else {}
                await client.send({"type": "connection_init", "payload": payload})
                ack = await client.receive()
                assert ack["type"] == "connection_ack", ack
            yield client

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self, within: float = 10) -> dict[str, Any]:
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), within))
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            return message

    async def subscribe(self, project_id: str, query: str = CHAT_EVENTS) -> str:
        op_id = str(next(_ids))
        await self.send(
            {
                "id": op_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": {"id": project_id}},
            }
        )
        return op_id

    async def subscribed(self, project_id: str) -> str:
        """Subscribe and wait until this process's hub has the subscriber (there is no reply).

        Only for a server in this process; see `until_live` for a server process.
        """
        op_id = await self.subscribe(project_id)
        await wait_for_subscribers(1)
        return op_id

    async def event(self, op_id: str, within: float = 10) -> dict[str, Any]:
        message = await self.receive(within)
        assert message["id"] == op_id, message
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        return message["payload"]["data"]["chatEvents"]

    async def nothing(self, within: float = 0.5) -> None:
        """Nothing arrives for `within` seconds.

        Proves little on its own: a test first shows that the same event does arrive where
        it should (another member's subscription, a later event on this one).
        """
        with pytest.raises(TimeoutError):
            message = await self.receive(within)
            pytest.fail(f"unexpected message {message}")

    async def close_code(self, within: float = 10) -> tuple[int, str]:
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), within)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None
            return closed.rcvd.code, closed.rcvd.reason


# The hub's subscriber count when the current test started or last waited: subscribing has
# no reply, so tests against the in-process server wait until the count has grown.
_baseline: list[int] = [0]


def reset_subscriber_baseline() -> None:
    _baseline[0] = events.feeds().subscriber_count


async def wait_for_subscribers(more: int, *, within: float = 5) -> None:
    """Until this process's hub has `more` subscribers than at the last wait (or reset)."""
    target = _baseline[0] + more
    deadline = time.monotonic() + within
    while events.feeds().subscriber_count < target:
        assert time.monotonic() < deadline, f"{events.feeds().subscriber_count} < {target}"
        await asyncio.sleep(0.01)
    _baseline[0] = events.feeds().subscriber_count


def error_codes(message: dict[str, Any]) -> list[str]:
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    return [e["extensions"]["code"] for e in errors]


def ws_url(base_url: str) -> str:
    """The GraphQL WebSocket URL of a server at `base_url` (http://host:port)."""
    return base_url.replace("http://", "ws://") + "/graphql"


async def send(api: Api, account: Account, project_id: str, body: str) -> int:
    """Post a chat message as `account`; returns its database id."""
    data = await api.data(SEND, {"input": {"projectId": project_id, "body": body}}, account.token)
    return pk(data["sendChatMessage"]["message"]["id"])


async def until_live(ws: WsClient, api: Api, team: Team) -> None:
    """Subscribing has no reply: post warm-up messages until one arrives (see drain())."""
    for attempt in range(50):
        await send(api, team.client, team.project_id, f"warm-up {attempt}")
        with contextlib.suppress(TimeoutError):
            # Any of the connection's operations will do: they all joined before this one.
            message = await ws.receive(within=0.3)
            assert message["type"] == "next", message
            assert message["payload"]["data"]["chatEvents"]["body"].startswith("warm-up")
            return
    pytest.fail("the subscription never went live")


async def drain(ws: WsClient, op: str) -> None:
    """Discard `op`'s events until none has come for a moment (warm-ups of other subscribers)."""
    with contextlib.suppress(TimeoutError):
        while True:
            await ws.event(op, within=0.3)


async def drain_all(ws: WsClient) -> None:
    """Discard whatever arrives, for any operation, until nothing has come for a moment."""
    with contextlib.suppress(TimeoutError):
        while True:
            await ws.receive(0.3)


async def bodies(ws: WsClient, count: int, within: float = 10) -> list[str]:
    """The bodies of the next `count` events, whichever of the connection's operations."""
    got = []
    for _ in range(count):
        message = await ws.receive(within)
        assert message["type"] == "next", message
        got.append(message["payload"]["data"]["chatEvents"]["body"])
    return got
