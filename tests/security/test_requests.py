"""Malformed requests get a 400 with a code and change nothing; the HTTP edge's other rules.

Every refusal here is the client's fault: no ERROR is logged for it, no Python wording
("unhashable type", "codec can't encode") reaches the client, and nothing is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import uuid
from typing import Any

import httpx
import pytest

from tests.security.test_http import error_code, no_error_logged
from tests.support import PASSWORD, Api, RunningServer, eventually, make_team
from tests.support_ws import SEND, WsClient

TYPENAME = "{ __typename }"
SIGN_UP = "mutation($i: SignUpInput!) { signUp(input: $i) { errors { code } token } }"
CHAT = "query($id: ID!) { project(id: $id) { chat(last: 100) { edges { node { body } } } } }"
# What must never reach a client: the wording of Python's own exceptions.
PYTHON_WORDING = re.compile(
    r"unhashable|subscriptable|codec|Traceback|object is not|NoneType|Internal", re.IGNORECASE
)

# Request bodies whose fields have the wrong type, as JSON (graphql-http's audits, and more).
MALFORMED_FIELDS: list[dict[str, Any]] = [
    {"query": TYPENAME, "operationName": {}},
    {"query": TYPENAME, "operationName": 5},
    {"query": TYPENAME, "operationName": ["a"]},
    {"query": TYPENAME, "operationName": True},
    {"query": 5},
    {"query": ["{ __typename }"]},
    {"query": TYPENAME, "variables": []},
    {"query": TYPENAME, "variables": "{}"},
    {"query": TYPENAME, "extensions": "x"},
    {"query": TYPENAME, "extensions": [1]},
]
# The same through GET's query string: only JSON-valued parameters can have a wrong type.
MALFORMED_PARAMS: list[dict[str, str]] = [
    {"query": TYPENAME, "variables": "[]"},
    {"query": TYPENAME, "variables": "5"},
    {"query": TYPENAME, "extensions": '"x"'},
    {"query": TYPENAME, "variables": '{"v": "\\ud800"}'},
]


def refused(response: httpx.Response, status: int = 400, code: str = "BAD_REQUEST") -> str:
    """The message of a refusal with `status` and `code`, checked for Python's wording."""
    assert response.status_code == status, response.text
    assert error_code(response) == code, response.text
    message = str(response.json()["errors"][0]["message"])
    assert not PYTHON_WORDING.search(message), message
    return message


async def post_raw(api: Api, body: bytes, token: str | None = None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return await api.client.post("/graphql", content=body, headers=headers)


@pytest.mark.parametrize("body", MALFORMED_FIELDS, ids=json.dumps)
async def test_a_request_field_of_the_wrong_type_is_a_400(api: Api, body: dict[str, Any]) -> None:
    with no_error_logged():
        message = refused(await api.client.post("/graphql", json=body))
    field = next(name for name in body if name != "query" or len(body) == 1)
    assert f"`{field}`" in message
    # The control: the same request with that field left out.
    served = await api.client.post("/graphql", json={"query": TYPENAME})
    assert served.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("params", MALFORMED_PARAMS, ids=json.dumps)
async def test_a_get_parameter_of_the_wrong_type_is_a_400(api: Api, params: dict[str, str]) -> None:
    with no_error_logged():
        refused(await api.client.get("/graphql", params=params))
    served = await api.client.get("/graphql", params={"query": TYPENAME, "variables": "{}"})
    assert served.json() == {"data": {"__typename": "Query"}}


# Variables that do not fit the operation's definitions, signed in (the schema is revealed).
BAD_VARIABLES: list[tuple[str, dict[str, Any]]] = [
    ("query($id: ID!) { project(id: $id) { id } }", {}),
    ("query($n: Int) { projects(first: $n) { edges { node { id } } } }", {"n": "x"}),
    ("mutation($i: SignUpInput!) { signUp(input: $i) { token } }", {"i": {"role": "KING"}}),
]


@pytest.mark.parametrize(("query", "variables"), BAD_VARIABLES, ids=lambda v: json.dumps(v))
async def test_variables_that_do_not_fit_are_bad_user_input(
    api: Api, query: str, variables: dict[str, Any]
) -> None:
    """A client's variables that fail coercion carry a code, whoever sends them."""
    team = await make_team(api)
    with no_error_logged():
        answer = await api.post(query, variables, team.client.token)
    assert answer["data"] is None, answer
    assert answer["errors"], answer
    assert {e.get("extensions", {}).get("code") for e in answer["errors"]} == {"BAD_USER_INPUT"}
    assert "Variable '$" in answer["errors"][0]["message"], answer  # revealed: in full


async def test_lone_surrogates_are_refused_where_the_json_is_decoded(api: Api) -> None:
    """`"\\ud800"` is valid JSON syntax but no text: UTF-8 cannot encode it."""
    team = await make_team(api)
    email = f"surrogate-{uuid.uuid4().hex[:8]}@example.com"
    member = team.freelancer
    send = json.dumps({"query": SEND, "variables": {"input": {"projectId": team.project_id}}})
    bodies = [
        # In operationName, in an enum variable, in a chat message, in a key, UTF-8 encoded.
        b'{"query": "query Q { __typename }", "operationName": "\\ud800"}',
        b'{"query": "%s", "variables": {"i": {"email": "%s", "password": "%s", "name": "S",'
        b' "role": "\\udfff"}}}' % (SIGN_UP.encode(), email.encode(), PASSWORD.encode()),
        send.replace('"}}}', '", "body": "hi \\ud83d there"}}}').encode(),
        b'{"query": "{ __typename }", "variables": {"\\udc00": 1}}',
        b'{"query": "{ __typename }", "operationName": "\xed\xa0\x80"}',
    ]
    with no_error_logged():
        for body in bodies:
            message = refused(await post_raw(api, body, member.token))
            assert "surrogate" in message, message
    # Nothing was stored: no account, no chat message; a proper pair is text and is stored.
    signed_up = await api.data(
        SIGN_UP, {"i": {"email": email, "password": PASSWORD, "name": "S", "role": "CLIENT"}}
    )
    assert signed_up["signUp"]["errors"] == []
    paired = send.replace('"}}}', '", "body": "hi \\ud83d\\ude00 there"}}}').encode()
    stored = (await post_raw(api, paired, member.token)).json()["data"]["sendChatMessage"]
    assert stored["errors"] == []
    chat = await api.data(CHAT, {"id": team.project_id}, member.token)
    messages = [e["node"]["body"] for e in chat["project"]["chat"]["edges"]]
    assert messages.count("hi \U0001f600 there") == 1
    assert not any(body.startswith("hi ") and body != "hi \U0001f600 there" for body in messages)


async def test_a_mutation_sent_by_get_is_405_with_allow_post(api: Api) -> None:
    email = f"by-get-{uuid.uuid4().hex[:8]}@example.com"
    variables = {"i": {"email": email, "password": PASSWORD, "name": "G", "role": "CLIENT"}}
    params = {"query": SIGN_UP, "variables": json.dumps(variables)}
    with no_error_logged():
        response = await api.client.get("/graphql", params=params)
    message = refused(response, 405, "METHOD_NOT_ALLOWED")
    assert "POST" in message
    assert response.headers["allow"] == "POST"
    # It ran nothing: the same sign-up by POST is the first with that address.
    assert (await api.data(SIGN_UP, variables))["signUp"]["errors"] == []
    # The control: a query by GET is served.
    assert (await api.client.get("/graphql", params={"query": TYPENAME})).status_code == 200


def subscribe(payload: object, op_id: object = "1") -> str:
    return json.dumps({"type": "subscribe", "id": op_id, "payload": payload})


CHAT_X = 'subscription { chatEvents(projectId: "x") { kind } }'
LONG_ID = {"type": "subscribe", "id": "y" * 300, "payload": {"query": CHAT_X}}
# Messages of graphql-transport-ws that break the protocol: each closes the socket with 4400
# (an id already in use: 4409), and a reason that fits a close frame.
INVALID_MESSAGES: list[str | tuple[str, ...]] = [
    subscribe({"query": TYPENAME, "operationName": {}}),
    subscribe({"query": TYPENAME, "operationName": 5}),
    subscribe({"query": TYPENAME, "variables": []}),
    subscribe({"query": TYPENAME, "extensions": 1}),
    subscribe({"query": 5}),
    subscribe({}),
    subscribe([TYPENAME]),
    subscribe({"query": TYPENAME}, op_id={}),
    subscribe({"query": TYPENAME}, op_id=1),
    json.dumps({"type": {}, "id": "1"}),
    json.dumps([{"type": "subscribe"}]),
    '{"type": "subscribe", "id": "1", "payload": {"query": "{ __typename }", '
    '"operationName": "\\ud800"}}',
    json.dumps({"type": "x" * 300}),
    (json.dumps(LONG_ID), json.dumps(LONG_ID)),
]


@pytest.mark.parametrize("message", INVALID_MESSAGES)
async def test_an_invalid_subscribe_message_closes_the_socket_with_4400(
    server: RunningServer, message: str | tuple[str, ...]
) -> None:
    messages = (message,) if isinstance(message, str) else message
    with no_error_logged():
        async with WsClient.open(server.ws_url) as ws:
            for text in messages:
                await ws.ws.send(text)
            code, reason = await ws.close_code()
    assert code == (4409 if len(messages) == 2 else 4400) and reason, reason
    assert not PYTHON_WORDING.search(reason), reason
    # The control: the same connection's well-formed operation is answered.
    async with WsClient.open(server.ws_url) as ws:
        await ws.send({"type": "subscribe", "id": "1", "payload": {"query": TYPENAME}})
        assert (await ws.receive())["payload"] == {"data": {"__typename": "Query"}}


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_a_client_that_leaves_mid_body_is_let_go_quietly(
    api: Api, server: RunningServer
) -> None:
    """Clients that close while sending their body are one INFO line each, no traceback."""
    host, port = server.url.removeprefix("http://").split(":")
    body = json.dumps({"query": TYPENAME}).encode()
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body) + 1000}\r\n\r\n"
    ).encode()
    leaving = 20
    handler = _Records()
    ours = logging.getLogger("milestones.http")
    level = ours.level
    ours.setLevel(logging.INFO)
    for name in ("milestones.http", "uvicorn.error"):
        logging.getLogger(name).addHandler(handler)

    def seen() -> list[logging.LogRecord]:
        return [
            r
            for r in handler.records
            if r.levelno >= logging.ERROR or "before sending its whole body" in r.getMessage()
        ]

    async def all_seen() -> bool:
        return len(seen()) >= leaving

    try:
        for _ in range(leaving):
            _, writer = await asyncio.open_connection(host, int(port))
            writer.write(head + body)
            await writer.drain()
            await asyncio.sleep(0.02)  # the server has the head and starts reading the body
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        # Each disconnect is seen: as an error before this was fixed, as one line now.
        await eventually(all_seen, within=10)
    finally:
        ours.setLevel(level)
        for name in ("milestones.http", "uvicorn.error"):
            logging.getLogger(name).removeHandler(handler)
    assert all(r.levelno == logging.INFO for r in seen()), [r.getMessage() for r in seen()]
    assert (await api.client.post("/graphql", json={"query": TYPENAME})).status_code == 200
