"""The Idempotency-Key cannot be slipped past, and never keeps a secret.

Probes of the second round:
- a mutation sent by persisted-query hash alone ran again on every retry with the same key;
- a document of two operations without `operationName` ran its first one (the GraphQL
  spec: "Must provide operation name if query contains multiple operations"), key or not;
- logIn and signUp sent with a key and any valid token kept the new session token in the
  idempotency table for 24 hours; rotateCalendarFeed and `calendarFeed { url }` kept the
  secret feed URL. The table is read with a connection of the test's own.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import httpx
import pytest

from tests.support import PASSWORD, Account, Api, RunningServer, Team, make_team
from tests.support_idempotency import kept_bodies
from tests.support_ws import WsClient

SEND = """mutation Send($input: SendChatMessageInput!) {
  sendChatMessage(input: $input) { errors { code } message { id body } } }"""
TWO_OPERATIONS = f"{SEND}\nquery Me {{ me {{ id }} }}"
NOT_KEPT = "IDEMPOTENT_RESPONSE_NOT_KEPT"


@pytest.fixture
async def team(api: Api) -> Team:
    return await make_team(api)


def new_key() -> str:
    return str(uuid.uuid4())


async def post(api: Api, account: Account, body: dict[str, Any], key: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {account.token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return await api.client.post("/graphql", json=body, headers=headers)


async def times_sent(api: Api, team: Team, body: str) -> int:
    data = await api.data(
        "query($id: ID!) { project(id: $id) { chat(last: 100) { edges { node { body } } } } }",
        {"id": team.project_id},
        team.client.token,
    )
    return [e["node"]["body"] for e in data["project"]["chat"]["edges"]].count(body)


def message(team: Team, body: str) -> dict[str, Any]:
    return {"input": {"projectId": team.project_id, "body": body}}


def code(response: httpx.Response | dict[str, Any]) -> str:
    body = response.json() if isinstance(response, httpx.Response) else response
    [error] = body["errors"]
    return str(error["extensions"]["code"])


async def test_a_mutation_sent_by_hash_alone_runs_once_under_one_key(api: Api, team: Team) -> None:
    persisted = {
        "persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(SEND.encode()).hexdigest()}
    }
    # The client's first request sends the document with its hash: the server stores it.
    stored = await post(
        api,
        team.client,
        {"query": SEND, "variables": message(team, "stored"), "extensions": persisted},
        new_key(),
    )
    assert stored.json()["data"]["sendChatMessage"]["errors"] == []
    key = new_key()
    by_hash = {"variables": message(team, f"by hash {key}"), "extensions": persisted}
    first = await post(api, team.client, by_hash, key)
    retry = await post(api, team.client, by_hash, key)
    assert first.json()["data"]["sendChatMessage"]["errors"] == []
    assert retry.headers.get("idempotent-replayed") == "true" and retry.content == first.content
    assert await times_sent(api, team, f"by hash {key}") == 1  # was 2
    # The same request with the document is the same request: replayed too.
    with_document = await post(api, team.client, {**by_hash, "query": SEND}, key)
    assert with_document.content == first.content
    assert await times_sent(api, team, f"by hash {key}") == 1
    # The control: under another key it runs again.
    await post(api, team.client, by_hash, new_key())
    assert await times_sent(api, team, f"by hash {key}") == 2


async def test_two_operations_without_an_operation_name_are_refused_and_run_nothing(
    api: Api, team: Team, server: RunningServer
) -> None:
    body = f"two operations {new_key()}"
    request = {"query": TWO_OPERATIONS, "variables": message(team, body)}
    for key in (new_key(), None):
        refused = await post(api, team.client, request, key)
        assert code(refused) == "BAD_REQUEST", refused.text
        assert "operationName" in refused.json()["errors"][0]["message"]
    # By GET (queries only) and over WebSocket: refused too.
    two_queries = "query A { me { id } } query B { me { name } }"
    got = await api.client.get(
        "/graphql",
        params={"query": two_queries},
        headers={"Authorization": f"Bearer {team.client.token}", "Accept": "application/json"},
    )
    assert code(got) == "BAD_REQUEST" and got.json().get("data") is None, got.text
    async with WsClient.open(server.ws_url, team.client.token) as ws:
        await ws.send(
            {
                "id": "two",
                "type": "subscribe",
                "payload": {"query": TWO_OPERATIONS, "variables": message(team, body)},
            }
        )
        answer = await ws.receive()
        errors = answer["payload"] if answer["type"] == "error" else answer["payload"]["errors"]
        assert [e["extensions"]["code"] for e in errors] == ["BAD_REQUEST"], answer
    assert await times_sent(api, team, body) == 0  # the first operation used to run
    # The control: naming the operation runs it, once under its key.
    key = new_key()
    named = {**request, "operationName": "Send"}
    first = await post(api, team.client, named, key)
    again = await post(api, team.client, named, key)
    assert first.json()["data"]["sendChatMessage"]["errors"] == []
    assert again.headers.get("idempotent-replayed") == "true"
    assert await times_sent(api, team, body) == 1


LOG_IN = """mutation($input: LogInInput!) { logIn(input: $input) {
  errors { code } token user { id } } }"""
SIGN_UP = """mutation($input: SignUpInput!) { signUp(input: $input) {
  errors { code } token user { id } } }"""
ROTATE = "mutation { rotateCalendarFeed { errors { code } feed { url } } }"
SEND_AS_AUTHOR = """mutation($input: SendChatMessageInput!) { sendChatMessage(input: $input) {
  errors { code } message { author { calendarFeed { url } } } } }"""


def feed_token(url: str) -> str:
    return url.rsplit("/", 1)[-1].removesuffix(".ics")


async def keyed_twice(
    api: Api, account: Account, query: str, variables: dict[str, Any]
) -> tuple[dict[str, Any], httpx.Response]:
    """Send the request with a new key, then its retry: the first answer and the retry."""
    key = new_key()
    body = {"query": query, "variables": variables}
    first = await post(api, account, body, key)
    assert first.status_code == 200 and "errors" not in first.json(), first.text
    return first.json()["data"], await post(api, account, body, key)


async def test_no_session_token_or_feed_url_is_kept_and_none_runs_twice(
    api: Api, team: Team, server: RunningServer
) -> None:
    secrets: list[str] = []
    email = f"kept-{new_key()}@example.com"
    sign_up = {"email": email, "password": PASSWORD, "name": "Kept", "role": "CLIENT"}
    # Any valid token will do: the freelancer's, signing someone up and logging them in.
    signed_up, retried_sign_up = await keyed_twice(
        api, team.freelancer, SIGN_UP, {"input": sign_up}
    )
    secrets.append(signed_up["signUp"]["token"])
    logged_in, retried_log_in = await keyed_twice(
        api, team.freelancer, LOG_IN, {"input": {"email": email, "password": PASSWORD}}
    )
    secrets.append(logged_in["logIn"]["token"])
    rotated, retried_rotation = await keyed_twice(api, team.client, ROTATE, {})
    secrets.append(feed_token(rotated["rotateCalendarFeed"]["feed"]["url"]))
    sent, retried_send = await keyed_twice(
        api, team.client, SEND_AS_AUTHOR, message(team, f"feed {new_key()}")
    )
    author = sent["sendChatMessage"]["message"]["author"]
    secrets.append(feed_token(author["calendarFeed"]["url"]))

    rows = await kept_bodies(server.settings.database_url)
    assert rows
    for secret in secrets:
        assert len(secret) >= 32
        assert not any(secret.encode() in row for row in rows)  # logIn's token was kept
    for retry in (retried_sign_up, retried_log_in, retried_rotation, retried_send):
        assert retry.headers.get("idempotent-replayed") == "true"
        assert code(retry) == NOT_KEPT and retry.json()["data"] is None
        assert not any(secret in retry.text for secret in secrets)
    # None ran twice: the rotated URL still answers, the message was posted once.
    feed = await api.client.get(rotated["rotateCalendarFeed"]["feed"]["url"])
    assert feed.status_code == 200
    sent_body = json.loads(retried_send.request.content)["variables"]["input"]["body"]
    assert await times_sent(api, team, sent_body) == 1
