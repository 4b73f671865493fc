"""Bad input over HTTP and WebSocket gets a clear 4xx, and never an error in the log.

Each refusal sits beside its control: the same request within bounds, which is served.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from server import create_app
from settings import Settings
from tests.support import Api, RunningServer, free_port
from tests.support_ws import WsClient

LIMIT = 1024 * 1024  # MAX_BODY_BYTES's default, which the shared server runs with
LOG_IN = "mutation($i: LogInInput!) { logIn(input: $i) { errors { code } token } }"


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def no_error_logged() -> Iterator[None]:
    """Fails if anything logs an ERROR meanwhile (uvicorn's own loggers do not propagate)."""
    handler = _Errors()
    loggers = [logging.getLogger(), logging.getLogger("uvicorn.error")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    assert not handler.records, [r.getMessage() for r in handler.records]


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """create_app(settings) on the shared server's database and hub, as an HTTP client."""
    port = free_port()
    # No lifespan: the shared server already set up the database and the hub of this process.
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    instance = uvicorn.Server(config)
    task = asyncio.create_task(instance.serve())
    while not instance.started:  # noqa: ASYNC110 - uvicorn offers no start event
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
    finally:
        instance.should_exit = True
        await task


async def raw_post(url: str, headers: dict[str, str], chunks: Iterable[bytes] = ()) -> int:
    """POST /graphql by hand, writing `chunks` as they are, and return the response status."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(f"POST /graphql HTTP/1.1\r\nHost: {host}\r\n{head}\r\n".encode())
        # The server may answer and close before it has read everything: that is the point.
        with contextlib.suppress(ConnectionError):
            for chunk in chunks:
                writer.write(chunk)
                await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 10)
        return int(status_line.split()[1])
    finally:
        writer.close()


def chunked(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        piece = data[start : start + size]
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"


def padded(size: int) -> bytes:
    """A valid GraphQL request of exactly `size` bytes."""
    empty = json.dumps({"query": "{ __typename }", "pad": ""}).encode()
    return json.dumps({"query": "{ __typename }", "pad": "x" * (size - len(empty))}).encode()


def error_code(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/json"), response.text
    [error] = response.json()["errors"]
    return str(error["extensions"]["code"])


async def test_a_body_declared_too_large_is_refused_before_it_is_read(
    api: Api, server: RunningServer
) -> None:
    declared = {"Content-Type": "application/json", "Content-Length": str(50 * 1024 * 1024)}
    # Not a byte of the 50 MB is sent: the answer cannot have waited for it.
    assert await raw_post(server.url, declared) == 413
    json_type = {"Content-Type": "application/json"}
    refused = await api.client.post("/graphql", content=padded(LIMIT + 1), headers=json_type)
    assert refused.status_code == 413 and error_code(refused) == "PAYLOAD_TOO_LARGE"
    at_limit = await api.client.post("/graphql", content=padded(LIMIT), headers=json_type)
    assert at_limit.status_code == 200, at_limit.text
    assert at_limit.json() == {"data": {"__typename": "Query"}}
    assert (await api.client.get("/healthz")).status_code == 200


async def test_a_chunked_body_is_counted_as_it_streams(api: Api, server: RunningServer) -> None:
    stream = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    assert await raw_post(server.url, stream, chunked(padded(LIMIT + 64 * 1024))) == 413
    assert await raw_post(server.url, stream, chunked(padded(LIMIT))) == 200
    assert (await api.client.get("/healthz")).status_code == 200


async def test_malformed_and_deeply_nested_json_get_400(api: Api) -> None:
    headers = {"Content-Type": "application/json"}
    with no_error_logged():
        broken = await api.client.post("/graphql", content=b'{"query": ', headers=headers)
        assert broken.status_code == 400 and error_code(broken) == "BAD_REQUEST"
        assert "not valid JSON" in broken.json()["errors"][0]["message"]

        deep = await api.client.post("/graphql", content=b"[" * 400_000, headers=headers)
        assert deep.status_code == 400 and error_code(deep) == "BAD_REQUEST"
        assert "nested too deeply" in deep.json()["errors"][0]["message"]

        deep_variables = "[" * 100_000 + "]" * 100_000
        body = b'{"query": "{ __typename }", "variables": {"v": ' + deep_variables.encode() + b"}}"
        refused = await api.client.post("/graphql", content=body, headers=headers)
        assert refused.status_code == 400 and error_code(refused) == "BAD_REQUEST"
        # The control: JSON nested as deep as any client's, and a scalar body.
        shallow = json.loads("[" * 30 + "]" * 30)
        served = await api.client.post(
            "/graphql", json={"query": "{ __typename }", "variables": {"v": shallow}}
        )
        assert served.json() == {"data": {"__typename": "Query"}}
        scalar = await api.client.post("/graphql", content=b"5", headers=headers)
        assert scalar.status_code == 400 and error_code(scalar) == "BAD_REQUEST"


async def test_a_subscription_over_http_points_to_the_websocket(api: Api) -> None:
    document = 'subscription { chatEvents(projectId: "x") { kind } }'
    with no_error_logged():
        for response in (
            await api.client.post("/graphql", json={"query": document}),
            await api.client.get("/graphql", params={"query": document}),
        ):
            assert response.status_code == 400 and error_code(response) == "BAD_REQUEST"
            message = response.json()["errors"][0]["message"]
            assert "WebSocket" in message and "graphql-transport-ws" in message
        served = await api.client.post("/graphql", json={"query": "{ __typename }"})
        assert served.json() == {"data": {"__typename": "Query"}}


async def test_only_the_graphql_transport_ws_subprotocol_is_spoken(server: RunningServer) -> None:
    async with connect(server.ws_url, subprotocols=["graphql-ws"], open_timeout=5) as legacy:  # type: ignore[list-item]
        assert legacy.subprotocol is None
        # Closed at once, without waiting for a connection_init that would never come.
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(legacy.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4406
    # The control: the contract's protocol, anonymously (connection_init without a payload).
    async with WsClient.open(server.ws_url, init=False) as ws:
        assert ws.ws.subprotocol == "graphql-transport-ws"
        await ws.send({"type": "connection_init"})
        assert (await ws.receive())["type"] == "connection_ack"
        # Its messages are decoded like request bodies: too deep is "not JSON", not a crash.
        with no_error_logged():
            await ws.ws.send("[" * 100_000)
            assert (await ws.close_code())[0] == 4400


async def test_an_operation_over_its_time_budget_is_stopped(
    api: Api, server: RunningServer
) -> None:
    variables = {"i": {"email": f"nobody-{uuid.uuid4().hex}@example.com", "password": "x" * 12}}
    # The control: a log-in (argon2, tens of milliseconds) within the default budget.
    answered = await api.data(LOG_IN, variables)
    assert answered["logIn"]["errors"] == [{"code": "INVALID_CREDENTIALS"}]
    tight = dataclasses.replace(server.settings, request_timeout_seconds=0.005)
    async with serving(tight) as client:
        with no_error_logged():
            response = await client.post("/graphql", json={"query": LOG_IN, "variables": variables})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "TIMEOUT"}
    assert "0.005 s" in error["message"]


async def ask(
    client: httpx.AsyncClient, query: str, token: str | None = None, **variables: Any
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    return dict(response.json())


INTROSPECT = "{ __schema { queryType { name } } }"
TYPO = "{ me { nam } }"
ENUM_TYPO = "mutation($i: SignUpInput!) { signUp(input: $i) { token } }"
SIGN_UP_TYPO = {"email": "typo@example.com", "password": "x" * 12, "name": "T", "role": "CLIENTT"}


def suggests(body: dict[str, Any]) -> bool:
    return any("Did you mean" in e["message"] for e in body["errors"])


async def test_with_graphiql_off_only_signed_in_callers_see_the_schema(
    api: Api, server: RunningServer
) -> None:
    member = await api.sign_up("CLIENT")
    hidden = dataclasses.replace(server.settings, graphiql=False)
    async with serving(hidden) as client:
        anonymous = await ask(client, INTROSPECT)
        assert anonymous["data"] is None and "introspection" in anonymous["errors"][0]["message"]
        assert not suggests(await ask(client, TYPO))
        assert not suggests(await ask(client, ENUM_TYPO, i=SIGN_UP_TYPO))
        assert await ask(client, "{ __typename }") == {"data": {"__typename": "Query"}}

        signed_in = await ask(client, INTROSPECT, member.token)
        assert signed_in == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
        assert suggests(await ask(client, TYPO, member.token))
        assert suggests(await ask(client, ENUM_TYPO, member.token, i=SIGN_UP_TYPO))

        # Asked again (validation is cached: tests/test_unit_visibility.py), still hidden.
        assert not suggests(await ask(client, TYPO))
        assert suggests(await ask(client, TYPO, member.token))

    shut = dataclasses.replace(server.settings, graphiql=False, introspection="off")
    async with serving(shut) as client:
        assert (await ask(client, INTROSPECT, member.token))["data"] is None
        assert not suggests(await ask(client, TYPO, member.token))


async def test_with_graphiql_on_everyone_sees_the_schema(api: Api) -> None:
    # The shared server serves GraphiQL, which needs the schema before anyone signs in.
    assert (await ask(api.client, INTROSPECT))["data"] == {
        "__schema": {"queryType": {"name": "Query"}}
    }
    assert suggests(await ask(api.client, TYPO))
