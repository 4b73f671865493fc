"""Sessions end everywhere: logOut, logOutEverywhere and expiry end every socket of the token.

The probe replayed: a client opens a graphql-transport-ws socket, logs out over HTTP, and on
the same socket keeps running queries and posting to the chat. Now every operation on a
socket runs as its token's current user, and a revoked or expired token's sockets are
closed with 4403 at once, in every server process; each refusal is preceded by proof that
the same socket could do the same thing before.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from tests.support import PASSWORD, Account, Api, RunningServer, Team, make_team
from tests.support_processes import api_for, server_process
from tests.support_ws import SEND, WsClient, wait_for_subscribers, ws_url

ME = "{ me { id } }"
LOG_IN = "mutation($input: LogInInput!) { logIn(input: $input) { token } }"
CHAT = "query($id: ID!) { project(id: $id) { chat(last: 50) { edges { node { body } } } } }"
# A day in the settings' unit, to ask a server for lifetimes of seconds.
DAY = 86_400.0
_ops = itertools.count(1)


def post(project_id: str, body: str) -> dict[str, Any]:
    return {"input": {"projectId": project_id, "body": body}}


async def send_operation(ws: WsClient, query: str, variables: dict[str, Any] | None) -> str:
    op_id = f"op-{next(_ops)}"
    payload = {"query": query, "variables": variables or {}}
    await ws.send({"id": op_id, "type": "subscribe", "payload": payload})
    return op_id


async def run(ws: WsClient, query: str, variables: dict[str, Any] | None = None) -> Any:
    """A query or mutation over the socket; its data."""
    op_id = await send_operation(ws, query, variables)
    message = await ws.receive()
    assert message["id"] == op_id and message["type"] == "next", message
    assert "errors" not in message["payload"], message
    assert (await ws.receive())["type"] == "complete"
    return message["payload"]["data"]


async def closed_for_session(ws: WsClient, within: float = 3) -> None:
    """The server closes the socket with 4403 within `within` seconds, and sends nothing."""
    with pytest.raises(ConnectionClosed) as closed:
        message = await ws.receive(within)
        pytest.fail(f"unexpected message {message}")
    assert closed.value.rcvd is not None, "the server did not close the socket"
    assert closed.value.rcvd.code == 4403


async def refused(ws: WsClient, query: str, variables: dict[str, Any] | None = None) -> None:
    """The operation gets no result, and the socket is (or already was) closed with 4403."""
    with contextlib.suppress(ConnectionClosed):
        await send_operation(ws, query, variables)
    await closed_for_session(ws)


async def bodies(api: Api, reader: Account, project_id: str) -> list[str]:
    data = await api.data(CHAT, {"id": project_id}, reader.token)
    return [edge["node"]["body"] for edge in data["project"]["chat"]["edges"]]


async def log_in(api: Api, account: Account) -> str:
    data = await api.data(LOG_IN, {"input": {"email": account.email, "password": PASSWORD}})
    return data["logIn"]["token"]


async def me(api: Api, token: str) -> str | None:
    data = await api.data(ME, None, token)
    return data["me"]["id"] if data["me"] else None


async def pair(api: Api) -> Team:
    """A client and a freelancer on one project (no admin: server processes have none)."""
    client, freelancer = await api.sign_up("CLIENT"), await api.sign_up("FREELANCER")
    project_id = await api.create_project(client, freelancer)
    return Team(client, freelancer, client, freelancer, project_id)


async def live(ws: WsClient, op: str, api: Api, team: Team) -> None:
    """Until `op` (a chatEvents subscription on `ws`) delivers: subscribing has no reply."""
    for attempt in range(50):
        await api.data(SEND, post(team.project_id, f"warm-up {attempt}"), team.freelancer.token)
        with contextlib.suppress(TimeoutError):
            while True:
                if (await ws.event(op, within=0.3))["body"] == f"warm-up {attempt}":
                    return
    pytest.fail("the subscription never went live")


async def test_log_out_over_http_ends_every_socket_of_the_token(
    api: Api, server: RunningServer, subscriber_baseline: None
) -> None:
    team = await make_team(api)
    token = team.client.token
    async with (
        WsClient.open(server.ws_url, token) as chat,
        WsClient.open(server.ws_url, token) as asking,
        WsClient.open(server.ws_url, token) as posting,
        WsClient.open(server.ws_url, team.freelancer.token) as other,
    ):
        op = await chat.subscribed(team.project_id)
        # Before: the same sockets read, post, and deliver.
        assert (await run(asking, ME))["me"]["id"] == team.client.id
        sent = await run(posting, SEND, post(team.project_id, "before"))
        assert sent["sendChatMessage"]["errors"] == []
        assert (await chat.event(op))["body"] == "before"

        assert (await api.data("mutation { logOut }", None, token))["logOut"] is True
        started = time.monotonic()
        await closed_for_session(chat)
        assert time.monotonic() - started < 2
        await refused(asking, ME)
        await refused(posting, SEND, post(team.project_id, "after"))

        assert (await bodies(api, team.freelancer, team.project_id))[-1] == "before"
        # Another user's socket is untouched.
        assert (await run(other, ME))["me"]["id"] == team.freelancer.id


async def test_sockets_opened_together_with_one_token_stop_at_log_out(
    api: Api, server: RunningServer, subscriber_baseline: None
) -> None:
    # Opened at once, their token checks overlap and share one lookup of the token.
    team = await make_team(api)
    token, count = team.client.token, 20
    async with contextlib.AsyncExitStack() as stack:
        sockets = await asyncio.gather(
            *(stack.enter_async_context(WsClient.open(server.ws_url, token)) for _ in range(count))
        )
        ops = await asyncio.gather(*(ws.subscribe(team.project_id) for ws in sockets))
        await wait_for_subscribers(count)
        # Before: every one of them receives.
        await api.data(SEND, post(team.project_id, "before"), team.freelancer.token)
        for ws, op in zip(sockets, ops, strict=True):
            assert (await ws.event(op))["body"] == "before"

        assert (await api.data("mutation { logOut }", None, token))["logOut"] is True
        for ws in sockets:
            await closed_for_session(ws)

    # And sockets opened together right after it are refused, every one.
    async def refused_at_connect() -> tuple[int, str]:
        async with WsClient.open(server.ws_url, init=False) as ws:
            await ws.send(
                {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
            )
            return await ws.close_code()

    codes = await asyncio.gather(*(refused_at_connect() for _ in range(count)))
    assert {code for code, _ in codes} == {4403}


async def test_log_out_everywhere_ends_every_token_of_the_user_only(
    api: Api, server: RunningServer, subscriber_baseline: None
) -> None:
    team = await make_team(api)
    first, second = team.client.token, await log_in(api, team.client)
    async with (
        WsClient.open(server.ws_url, first) as chat,
        WsClient.open(server.ws_url, second) as idle,
        WsClient.open(server.ws_url, team.freelancer.token) as other,
    ):
        await chat.subscribed(team.project_id)
        other_op = await other.subscribed(team.project_id)
        assert (await run(idle, ME))["me"]["id"] == team.client.id

        data = await api.data("mutation { logOutEverywhere }", None, second)
        assert data["logOutEverywhere"] is True
        await closed_for_session(chat)
        await closed_for_session(idle)
        assert await me(api, first) is None and await me(api, second) is None

        # The other user is still signed in, over HTTP and on the open socket.
        await api.data(SEND, post(team.project_id, "still here"), team.freelancer.token)
        assert (await other.event(other_op))["body"] == "still here"
        assert await me(api, team.freelancer.token) == team.freelancer.id


async def test_a_process_that_missed_the_log_out_refuses_the_next_operation(
    api: Api, server: RunningServer, tmp_path: Path
) -> None:
    # A second process on the same database, without Redis: nothing tells it about logOut.
    async with (
        server_process(server.settings.database_url, "", tmp_path, "elsewhere") as url,
        api_for(url) as elsewhere,
    ):
        team = await pair(elsewhere)
        async with (
            WsClient.open(ws_url(url), team.client.token) as asking,
            WsClient.open(ws_url(url), team.client.token) as posting,
        ):
            assert (await run(asking, ME))["me"]["id"] == team.client.id
            sent = await run(posting, SEND, post(team.project_id, "before"))
            assert sent["sendChatMessage"]["errors"] == []

            await api.data("mutation { logOut }", None, team.client.token)
            # Re-checked when each operation arrives: refused, and the socket closed.
            await refused(asking, ME)
            await refused(posting, SEND, post(team.project_id, "after"))
        assert (await bodies(elsewhere, team.freelancer, team.project_id)) == ["before"]


async def test_log_out_on_one_process_closes_the_socket_on_another(
    postgres_url: str, reachable_redis: str, tmp_path: Path
) -> None:
    async with (
        server_process(postgres_url, reachable_redis, tmp_path, "a") as url_a,
        server_process(postgres_url, reachable_redis, tmp_path, "b") as url_b,
        api_for(url_a) as api_a,
    ):
        team = await pair(api_a)
        async with (
            WsClient.open(ws_url(url_a), team.client.token) as on_a,
            WsClient.open(ws_url(url_b), team.client.token) as on_b,
        ):
            op = await on_b.subscribe(team.project_id)
            await live(on_b, op, api_a, team)

            # Over a socket of the token itself, which that ends too: the announcement to
            # the other process must outlive the operation that made it.
            await send_operation(on_a, "mutation { logOut }", None)
            started = time.monotonic()
            await closed_for_session(on_b)
            assert time.monotonic() - started < 2
            assert (await on_a.close_code())[0] == 4403  # after logOut's result, or before it
        assert await me(api_a, team.client.token) is None


async def test_idle_tokens_expire_and_used_ones_last_until_the_absolute_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    idle, absolute = 1.0, 3.5  # seconds
    monkeypatch.setenv("TOKEN_IDLE_DAYS", str(idle / DAY))
    monkeypatch.setenv("TOKEN_MAX_DAYS", str(absolute / DAY))
    database = f"sqlite://{tmp_path / 'expiry.sqlite3'}"
    async with server_process(database, "", tmp_path) as url, api_for(url) as api:
        started = time.monotonic()
        account = await api.sign_up("FREELANCER")
        idle_token, used_token = account.token, await log_in(api, account)
        async with WsClient.open(ws_url(url), idle_token) as idle_socket:
            assert (await run(idle_socket, ME))["me"]["id"] == account.id
            # The idle token's socket is closed once it expires, with nothing sent on it.
            while time.monotonic() - started < 2 * idle + 0.2:
                assert await me(api, used_token) == account.id
                await asyncio.sleep(0.2)
            await closed_for_session(idle_socket, within=1)
        assert await me(api, idle_token) is None
        # Used all along: still working past twice the idle limit...
        assert await me(api, used_token) == account.id
        # ...until the absolute one, however recently it was used.
        while time.monotonic() - started < absolute + 0.5:
            await me(api, used_token)
            await asyncio.sleep(0.2)
        assert await me(api, used_token) is None
