"""Responses have a size limit: MAX_RESPONSE_BYTES, counted while the result is built.

The probe of the second round: 30 aliases of `chat(last: 100) { body }` over a chat of
100 messages of 4,000 characters, 1.7 KB of query well under the cost limit, answered 12 MB.
Now the operation fails with one RESPONSE_TOO_LARGE error once the budget is spent, over
HTTP, over WebSocket (an operation, and a subscription event), and as a mutation with an
Idempotency-Key, whose row keeps that small answer. Each refusal sits beside the same shape
at a size within the limit, which is served whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.support import Api, RunningServer, Team, make_team
from tests.support_idempotency import kept_bodies
from tests.support_ws import WsClient, drain_all

LIMIT = 8 * 1024 * 1024  # MAX_RESPONSE_BYTES's default, which the shared server runs with
BODY = "x" * 4000  # the longest chat message
CHAT = "chat(last: 100) { edges { node { body } } }"


def aliases(count: int) -> str:
    return " ".join(f"c{n}: {CHAT}" for n in range(count))


QUERY = f"query($id: ID!) {{ project(id: $id) {{ {aliases(30)} }} }}"
SMALL_QUERY = f"query($id: ID!) {{ project(id: $id) {{ {aliases(1)} }} }}"


@pytest.fixture(scope="module")
async def chatty(server: RunningServer) -> AsyncIterator[tuple[Api, Team]]:
    """A project whose chat holds 100 messages of 4,000 characters."""
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        api = Api(client)
        team = await make_team(api)
        send = """mutation($input: SendChatMessageInput!) {
          sendChatMessage(input: $input) { errors { code } } }"""
        variables = {"input": {"projectId": team.project_id, "body": BODY}}
        for _ in range(10):
            await asyncio.gather(*(api.data(send, variables, team.client.token) for _ in range(10)))
        yield api, team


async def say(api: Api, team: Team, body: str) -> None:
    await api.data(
        """mutation($input: SendChatMessageInput!) {
          sendChatMessage(input: $input) { errors { code } } }""",
        {"input": {"projectId": team.project_id, "body": body}},
        team.client.token,
    )


def too_large(body: dict[str, Any]) -> None:
    assert body.get("data") is None, str(body)[:300]
    [error] = body["errors"]
    assert error["extensions"]["code"] == "RESPONSE_TOO_LARGE", error
    assert "MAX_RESPONSE_BYTES" not in error["message"]  # an operator's word, not a client's
    assert "fewer" in error["message"]


async def test_a_query_whose_answer_would_pass_the_limit_gets_one_small_error(
    chatty: tuple[Api, Team],
) -> None:
    api, team = chatty
    headers = {"Authorization": f"Bearer {team.client.token}"}
    body = {"query": QUERY, "variables": {"id": team.project_id}}
    response = await api.client.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200
    assert len(response.content) < 2000, len(response.content)  # was 12,060,000 bytes
    too_large(response.json())
    # The control: the same shape with one alias, 400 KB, is served whole.
    small = await api.client.post("/graphql", json={**body, "query": SMALL_QUERY}, headers=headers)
    edges = small.json()["data"]["project"]["c0"]["edges"]
    assert len(edges) == 100 and all(e["node"]["body"] == BODY for e in edges)


async def test_the_limit_holds_over_websocket_for_operations_and_events(
    chatty: tuple[Api, Team], server: RunningServer
) -> None:
    api, team = chatty
    events = f"subscription($id: ID!) {{ chatEvents(projectId: $id) {{ body project {{ {aliases(30)} }} }} }}"
    async with WsClient.open(server.ws_url, team.client.token) as ws:
        await ws.send(
            {
                "id": "query",
                "type": "subscribe",
                "payload": {"query": QUERY, "variables": {"id": team.project_id}},
            }
        )
        answer = await ws.receive(within=30)
        assert answer["id"] == "query" and answer["type"] == "next", str(answer)[:300]
        too_large(answer["payload"])
        assert (await ws.receive())["type"] == "complete"

        live = await ws.subscribe(team.project_id, query=events)
        small = await ws.subscribe(
            team.project_id, query="subscription($id: ID!) { chatEvents(projectId: $id) { body } }"
        )
        # Subscribing has no reply: post warm-ups until both subscriptions get one.
        heard: set[str] = set()
        for attempt in range(50):
            await say(api, team, f"warm-up {attempt}")
            with contextlib.suppress(TimeoutError):
                while heard != {live, small}:
                    heard.add((await ws.receive(within=0.5))["id"])
                break
        await drain_all(ws)
        await say(api, team, "one more")
        got = {}
        for _ in range(2):
            message = await ws.receive(within=30)
            got[message["id"]] = message["payload"]
        too_large(got[live])
        assert got[small] == {"data": {"chatEvents": {"body": "one more"}}}


async def test_a_keyed_mutation_with_a_huge_answer_runs_once_and_keeps_a_small_row(
    chatty: tuple[Api, Team], server: RunningServer
) -> None:
    api, team = chatty
    mutation = f"""mutation($input: SendChatMessageInput!) {{ sendChatMessage(input: $input) {{
      message {{ project {{ {aliases(30)} }} }} }} }}"""
    key = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {team.freelancer.token}", "Idempotency-Key": key}
    body = {
        "query": mutation,
        "variables": {"input": {"projectId": team.project_id, "body": f"huge {key}"}},
    }
    first = await api.client.post("/graphql", json=body, headers=headers)
    assert len(first.content) < 2000, len(first.content)
    too_large(first.json())
    assert "ran" in first.json()["errors"][0]["message"]
    retry = await api.client.post("/graphql", json=body, headers=headers)
    assert retry.headers.get("idempotent-replayed") == "true"
    assert retry.content == first.content
    # It ran once, and the row keeps the small answer (it kept 12 MB for a day).
    rows = await kept_bodies(server.settings.database_url)
    assert all(len(row) < 64 * 1024 for row in rows)
    assert any(first.content == row for row in rows)
    mine = await api.data(
        "query($id: ID!) { project(id: $id) { chat(last: 5) { edges { node { body } } } } }",
        {"id": team.project_id},
        team.client.token,
    )
    sent = [e["node"]["body"] for e in mine["project"]["chat"]["edges"]]
    assert sent.count(f"huge {key}") == 1


async def test_an_answer_too_big_to_keep_is_sent_whole_but_kept_as_a_marker(
    chatty: tuple[Api, Team], server: RunningServer
) -> None:
    api, team = chatty
    mutation = f"""mutation($input: SendChatMessageInput!) {{ sendChatMessage(input: $input) {{
      message {{ project {{ {aliases(1)} }} }} }} }}"""
    key = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {team.client.token}", "Idempotency-Key": key}
    body = {
        "query": mutation,
        "variables": {"input": {"projectId": team.project_id, "body": f"big {key}"}},
    }
    first = await api.client.post("/graphql", json=body, headers=headers)
    assert len(first.content) > 300_000 and "errors" not in first.json()
    rows = await kept_bodies(server.settings.database_url, team.client.id)
    assert rows and all(len(row) < 64 * 1024 for row in rows)  # it kept all 400 KB
    retry = await api.client.post("/graphql", json=body, headers=headers)
    assert retry.headers.get("idempotent-replayed") == "true"
    [error] = retry.json()["errors"]
    assert error["extensions"]["code"] == "IDEMPOTENT_RESPONSE_NOT_KEPT", error
    mine = await api.data(
        "query($id: ID!) { project(id: $id) { chat(last: 5) { edges { node { body } } } } }",
        {"id": team.project_id},
        team.client.token,
    )
    sent = [e["node"]["body"] for e in mine["project"]["chat"]["edges"]]
    assert sent.count(f"big {key}") == 1
