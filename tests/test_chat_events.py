"""chatEvents over graphql-transport-ws, through a real server and a real WebSocket client.

Every event kind with all its fields, order under bursts, who receives nothing (outsiders,
the anonymous, other projects, the logged out), limits, origins, shutdown, slow readers,
shared results, and a stock GraphQL client. The client is tests/support_ws.py's `WsClient`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from infra.feeds import Delivery, Ended
from tests.support import Api, RunningServer, Team, eventually, free_port, future, make_team, pk
from tests.support_feeds import local_feeds, subscribe
from tests.support_processes import api_for, create_admin, make_team_with, server_process
from tests.support_ws import (
    COMPLETE,
    DELETE,
    EDIT,
    SEND,
    WsClient,
    error_codes,
    wait_for_subscribers,
    ws_url,
)
from web.graphql_app import GraphQLApp

pytestmark = pytest.mark.usefixtures("subscriber_baseline")


async def test_members_receive_every_event_in_order_with_all_fields(
    api: Api, server: RunningServer
) -> None:
    team = await make_team(api)
    async with (
        WsClient.open(server.ws_url, team.client.token) as client,
        WsClient.open(server.ws_url, header_token=team.freelancer.token) as freelancer,
        WsClient.open(server.ws_url, team.admin.token) as admin,
    ):
        subscriptions = [
            (client, await client.subscribed(team.project_id)),
            (freelancer, await freelancer.subscribed(team.project_id)),
            (admin, await admin.subscribed(team.project_id)),
        ]

        async def everyone() -> list[dict[str, Any]]:
            return [await ws.event(op) for ws, op in subscriptions]

        added = await api.add_milestone(team.freelancer, team.project_id, "Schema review")
        milestone_id = added["milestone"]["id"]
        seen = await everyone()
        event = seen[0]
        assert event["kind"] == "MILESTONE_ADDED"
        assert "“Schema review”" in event["body"]
        assert event["author"] is None
        assert event["actor"] == {
            "id": team.freelancer.id,
            "name": team.freelancer.name,
            "role": "FREELANCER",
        }
        assert event["milestone"] == {
            "id": milestone_id,
            "title": "Schema review",
            "completed": False,
            "completedBy": None,
        }
        assert event["changes"] == []
        assert event["project"]["id"] == team.project_id
        assert event["project"]["milestoneProgress"] == {"total": 1, "completed": 0}
        assert dt.datetime.fromisoformat(event["createdAt"]).tzinfo is not None
        assert [e["id"] for e in seen] == [event["id"]] * 3

        await api.data(
            EDIT, {"input": {"id": milestone_id, "title": "Schema audit"}}, team.freelancer.token
        )
        edited = (await everyone())[0]
        assert edited["kind"] == "MILESTONE_EDITED"
        assert edited["changes"] == [
            {"field": "title", "from": "Schema review", "to": "Schema audit"}
        ]
        assert edited["milestone"]["title"] == "Schema audit"

        # Loaders are fresh per event: the progress and the milestone follow each change.
        await api.data(
            COMPLETE, {"input": {"id": milestone_id, "completed": True}}, team.freelancer.token
        )
        completed = (await everyone())[0]
        assert completed["kind"] == "MILESTONE_COMPLETED"
        assert completed["milestone"]["completed"] is True
        assert completed["milestone"]["completedBy"] == {"id": team.freelancer.id}
        assert completed["project"]["milestoneProgress"] == {"total": 1, "completed": 1}

        await api.data(
            COMPLETE, {"input": {"id": milestone_id, "completed": False}}, team.freelancer.token
        )
        reopened = (await everyone())[0]
        assert reopened["kind"] == "MILESTONE_REOPENED"
        assert reopened["project"]["milestoneProgress"] == {"total": 1, "completed": 0}

        await api.data(
            SEND,
            {"input": {"projectId": team.project_id, "body": "Looks good!"}},
            team.client.token,
        )
        for message in await everyone():
            assert message["kind"] == "MESSAGE"
            assert message["body"] == "Looks good!"
            assert message["author"]["id"] == message["actor"]["id"] == team.client.id
            assert message["milestone"] is None
            # A member sees the other party's e-mail address.
            assert message["author"]["email"] == team.client.email

        await api.data(DELETE, {"input": {"id": milestone_id}}, team.freelancer.token)
        deleted = (await everyone())[0]
        assert deleted["kind"] == "MILESTONE_DELETED"
        assert "“Schema audit”" in deleted["body"]
        assert deleted["milestone"] is None
        assert deleted["project"]["milestoneProgress"] == {"total": 0, "completed": 0}

        for ws, _ in subscriptions:
            await ws.nothing(0.2)


async def test_a_burst_arrives_complete_and_in_commit_order(
    api: Api, server: RunningServer
) -> None:
    team = await make_team(api)
    async with WsClient.open(server.ws_url, team.client.token) as ws:
        op = await ws.subscribed(team.project_id)
        senders = [team.client, team.freelancer, team.admin]
        await asyncio.gather(
            *(
                api.data(
                    SEND,
                    {"input": {"projectId": team.project_id, "body": f"m{i}"}},
                    senders[i % 3].token,
                )
                for i in range(30)
            )
        )
        received = [await ws.event(op) for _ in range(30)]
        ids = [pk(e["id"]) for e in received]
        assert ids == sorted(ids) and len(set(ids)) == 30
        assert sorted(e["body"] for e in received) == sorted(f"m{i}" for i in range(30))
        await ws.nothing(0.3)


async def test_outsider_is_told_not_found_and_receives_nothing(
    api: Api, server: RunningServer
) -> None:
    team = await make_team(api)
    # The outsider's own project, so that its connection demonstrably receives events.
    own_project = await api.create_project(team.client, team.outsider, title="Their own")
    await api.unlock(team.admin, own_project)
    async with (
        WsClient.open(server.ws_url, team.outsider.token) as ws,
        WsClient.open(server.ws_url, team.freelancer.token) as member,
    ):
        member_op = await member.subscribed(team.project_id)
        own_op = await ws.subscribed(own_project)
        op = await ws.subscribe(team.project_id)
        refused = await ws.receive()
        assert refused["type"] == "error" and refused["id"] == op, refused
        assert error_codes(refused) == ["NOT_FOUND"]
        # Exactly what a project that does not exist looks like.
        await ws.subscribe("UHJvamVjdDo5OTk5OTk5")  # Project:9999999
        missing = await ws.receive()
        assert missing["type"] == "error"
        assert [e["message"] for e in missing["payload"]] == [
            e["message"] for e in refused["payload"]
        ]
        await api.data(
            SEND, {"input": {"projectId": team.project_id, "body": "secret"}}, team.client.token
        )
        # The control: a member subscribed all along receives it...
        assert (await member.event(member_op))["body"] == "secret"
        # ...and the outsider's connection receives what is posted next in its own project.
        await api.data(
            SEND, {"input": {"projectId": own_project, "body": "yours"}}, team.client.token
        )
        assert (await ws.event(own_op))["body"] == "yours"
        await ws.nothing()


async def test_anonymous_connection_opens_but_subscribing_is_unauthenticated(
    api: Api, server: RunningServer
) -> None:
    team = await make_team(api)
    async with (
        WsClient.open(server.ws_url) as ws,
        WsClient.open(server.ws_url, team.freelancer.token) as member,
    ):
        member_op = await member.subscribed(team.project_id)
        await ws.subscribe(team.project_id)
        refused = await ws.receive()
        assert refused["type"] == "error"
        assert error_codes(refused) == ["UNAUTHENTICATED"]
        await api.data(
            SEND, {"input": {"projectId": team.project_id, "body": "hi"}}, team.client.token
        )
        # The control: a member subscribed all along receives it.
        assert (await member.event(member_op))["body"] == "hi"
        await ws.nothing()


@pytest.mark.parametrize("where", ["payload", "header"])
async def test_a_bad_token_is_refused_with_4403(server: RunningServer, where: str) -> None:
    kwargs: dict[str, Any] = (
        {"token": "not-a-token"} if where == "payload" else {"header_token": "nope"}
    )
    async with WsClient.open(server.ws_url, init=False, **kwargs) as ws:
        payload = {"Authorization": "Bearer not-a-token"} if where == "payload" else {}
        await ws.send({"type": "connection_init", "payload": payload})
        assert (await ws.close_code())[0] == 4403


async def test_events_of_other_projects_never_arrive(api: Api, server: RunningServer) -> None:
    mine = await make_team(api)
    other = await make_team(api)
    async with (
        WsClient.open(server.ws_url, mine.admin.token) as ws,
        WsClient.open(server.ws_url, other.client.token) as theirs,
    ):
        op = await ws.subscribed(mine.project_id)
        their_op = await theirs.subscribed(other.project_id)
        await api.add_milestone(other.freelancer, other.project_id, "Not yours")
        await api.data(
            SEND,
            {"input": {"projectId": other.project_id, "body": "elsewhere"}},
            other.client.token,
        )
        await api.data(
            SEND, {"input": {"projectId": mine.project_id, "body": "here"}}, mine.client.token
        )
        # The control: the other project's events were sent, to its own subscriber.
        assert (await theirs.event(their_op))["kind"] == "MILESTONE_ADDED"
        assert (await theirs.event(their_op))["body"] == "elsewhere"
        event = await ws.event(op)
        assert (event["body"], event["project"]["id"]) == ("here", mine.project_id)
        await ws.nothing(0.3)
        await theirs.nothing(0.1)


async def test_log_out_stops_delivery(api: Api, server: RunningServer) -> None:
    team = await make_team(api)
    async with (
        WsClient.open(server.ws_url, team.client.token) as ws,
        WsClient.open(server.ws_url, team.admin.token) as still_in,
    ):
        op = await ws.subscribed(team.project_id)
        still_in_op = await still_in.subscribed(team.project_id)
        await api.data(
            SEND, {"input": {"projectId": team.project_id, "body": "one"}}, team.freelancer.token
        )
        assert (await ws.event(op))["body"] == "one"
        assert (await api.data("mutation { logOut }", token=team.client.token))["logOut"] is True
        # The signed-out socket is closed at once, as a bad token's is at connection time
        # (more in tests/security/test_sessions.py), and nothing more reaches it.
        with pytest.raises(ConnectionClosed) as closed:
            await ws.receive(within=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
        for body in ("two", "three"):
            await api.data(
                SEND, {"input": {"projectId": team.project_id, "body": body}}, team.freelancer.token
            )
        # The control: a member still signed in received every message, "three" included.
        assert [(await still_in.event(still_in_op))["body"] for _ in range(3)] == [
            "one",
            "two",
            "three",
        ]


async def test_subscriptions_per_connection_are_capped(api: Api, server: RunningServer) -> None:
    team = await make_team(api)
    async with WsClient.open(server.ws_url, team.client.token) as ws:
        for _ in range(20):
            await ws.subscribe(team.project_id)
        await wait_for_subscribers(20)
        op = await ws.subscribe(team.project_id)
        refused = await ws.receive()
        assert (refused["type"], refused["id"]) == ("error", op)
        assert "limit" in refused["payload"][0]["message"]


async def test_a_foreign_origin_is_refused(server: RunningServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with WsClient.open(server.ws_url, origin="https://evil.example", init=False):
            pass
    assert refused.value.response.status_code == 403


@contextlib.asynccontextmanager
async def bare_server(
    **options: Any,
) -> AsyncIterator[tuple[str, uvicorn.Server, asyncio.Task[None]]]:
    """Just the GraphQL endpoint with `options`, on the session's database and hub."""
    app = Starlette(routes=[WebSocketRoute("/graphql", GraphQLApp(graphiql=False, **options))])
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    instance = uvicorn.Server(config)
    task = asyncio.create_task(instance.serve())
    while not instance.started:  # noqa: ASYNC110 - uvicorn offers no start event
        await asyncio.sleep(0.01)
    try:
        yield f"ws://127.0.0.1:{port}/graphql", instance, task
    finally:
        instance.should_exit = True
        await task


async def test_allowed_origins_and_init_timeout(server: RunningServer) -> None:
    async with bare_server(
        allowed_origins=("https://app.example",),
        connection_init_wait_timeout=dt.timedelta(seconds=0.3),
    ) as (url, _, _):
        async with WsClient.open(url, origin="https://app.example", init=False) as ws:
            assert await ws.close_code() == (4408, "Connection initialisation timeout")
        with pytest.raises(InvalidStatus):
            async with WsClient.open(url, origin="https://other.example", init=False):
                pass


async def test_shutdown_closes_open_subscriptions_promptly(api: Api, server: RunningServer) -> None:
    team = await make_team(api)
    async with bare_server() as (url, instance, task):
        async with WsClient.open(url, team.client.token) as ws:
            await ws.subscribed(team.project_id)
            started = time.monotonic()
            instance.should_exit = True
            await asyncio.wait_for(asyncio.shield(task), timeout=5)
            assert time.monotonic() - started < 3
            assert (await ws.close_code())[0] == 1012  # "service restart"


async def test_a_slow_subscriber_is_cut_off_not_buffered(api: Api, server: RunningServer) -> None:
    """The hub's side: a full queue detaches the subscriber and tells it why."""
    team = await make_team(api)
    project_pk = pk(team.project_id)
    feeds = local_feeds(queue_size=2)
    cut_off: list[bool] = []
    slow = await subscribe(feeds, int(project_pk), team.client.token, lambda: cut_off.append(True))
    fast = await subscribe(feeds, int(project_pk), team.freelancer.token)
    try:
        for i in range(4):
            body = {"input": {"projectId": team.project_id, "body": f"n{i}"}}
            message = (await api.data(SEND, body, team.client.token))["sendChatMessage"]["message"]
            feeds.notify(int(project_pk), pk(message["id"]))
            got = await asyncio.wait_for(fast.get(), 5)
            assert isinstance(got, Delivery)
            assert [m.body for m in got.messages] == [f"n{i}"]
        assert cut_off == [True] and slow.overflowed
        assert slow.pending == 2  # bounded: nothing was added after it filled
    finally:
        await feeds.close()


async def test_hub_close_completes_subscribers(api: Api) -> None:
    team = await make_team(api)
    feeds = local_feeds()
    subscriber = await subscribe(feeds, pk(team.project_id), team.client.token)
    await feeds.close()
    assert isinstance(await asyncio.wait_for(subscriber.get(), 1), Ended)


async def test_burst_from_both_mutation_kinds_keeps_per_subscriber_order(
    api: Api, server: RunningServer
) -> None:
    team = await make_team(api)
    async with WsClient.open(server.ws_url, team.freelancer.token) as ws:
        op = await ws.subscribed(team.project_id)
        await asyncio.gather(
            api.add_milestone(team.freelancer, team.project_id, "A", future(3)),
            api.data(
                SEND, {"input": {"projectId": team.project_id, "body": "x"}}, team.client.token
            ),
            api.add_milestone(team.freelancer, team.project_id, "B", future(4)),
        )
        got = [await ws.event(op) for _ in range(3)]
        ids = [pk(e["id"]) for e in got]
        assert ids == sorted(ids)
        assert sorted(e["kind"] for e in got) == ["MESSAGE", "MILESTONE_ADDED", "MILESTONE_ADDED"]


async def test_subscribers_with_the_same_document_and_viewer_share_one_result(
    api: Api, server: RunningServer
) -> None:
    team = await make_team(api)
    short = "subscription($id: ID!) { chatEvents(projectId: $id) { body author { email } } }"
    async with (
        WsClient.open(server.ws_url, team.client.token) as first,
        WsClient.open(server.ws_url, team.client.token) as second,
        WsClient.open(server.ws_url, team.freelancer.token) as other_viewer,
    ):
        ops = [await first.subscribe(team.project_id), await first.subscribe(team.project_id)]
        ops.append(await first.subscribe(team.project_id, query=short))
        second_op = await second.subscribe(team.project_id)
        other_op = await other_viewer.subscribe(team.project_id)
        await wait_for_subscribers(5)
        await api.data(
            SEND, {"input": {"projectId": team.project_id, "body": "shared"}}, team.admin.token
        )
        by_id = {}
        for _ in ops:
            message = await first.receive()
            by_id[message["id"]] = message["payload"]["data"]["chatEvents"]
        assert set(by_id) == set(ops)
        full = await second.event(second_op)
        assert by_id[ops[0]] == by_id[ops[1]] == full
        assert by_id[ops[2]] == {"body": "shared", "author": {"email": None}}
        assert full["author"]["id"] == team.admin.id
        assert (await other_viewer.event(other_op)) == full  # same fields, same visibility


async def test_a_client_that_stops_reading_is_disconnected_with_a_reason(
    server: RunningServer, tmp_path: Path
) -> None:
    # A server process of its own, whose subscribers may fall only 4 batches behind.
    database_url = server.settings.database_url
    env = {"CHAT_QUEUE_SIZE": "4", "METRICS": "1"}
    async with (
        server_process(database_url, "", tmp_path, "small-queue", env) as url,
        api_for(url) as api,
    ):
        team = await make_team_with(api, await create_admin(api, database_url, tmp_path))
        closed = await _flood_a_reader_that_never_reads(api, url, team)
    assert closed.rcvd is not None
    assert (closed.rcvd.code, closed.rcvd.reason) == (
        1013,
        "Too slow reading chat events; reconnect to resume.",
    )


async def _active_subscriptions(api: Api) -> float:
    text = (await api.client.get("/metrics")).text
    match = re.search(r"^milestones_subscriptions_active (\S+)$", text, re.MULTILINE)
    assert match is not None, text
    return float(match[1])


async def _flood_a_reader_that_never_reads(api: Api, url: str, team: Team) -> ConnectionClosed:
    """Events sent to a subscriber that reads nothing until it is cut off; how its socket
    was closed."""
    # A tiny receive buffer, and no reading: the server's writes back up quickly.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", int(url.rsplit(":", 1)[1])))
    async with connect(
        ws_url(url),
        sock=sock,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        compression=None,
        max_queue=1,
        ping_interval=None,
    ) as raw:
        ws = WsClient(raw)
        await ws.send(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {team.client.token}"}}
        )
        assert (await ws.receive())["type"] == "connection_ack"
        # 25 copies of a 4,000-character body: ~100 kB per event fills the buffers fast.
        heavy = " ".join(f"b{i}: body" for i in range(25))
        await ws.subscribe(
            team.project_id,
            f"subscription($id: ID!) {{ chatEvents(projectId: $id) {{ {heavy} }} }}",
        )
        await until_subscribed(api, team)
        body = "x" * 4000
        # Cut off after its 4 waiting batches and what the socket buffers hold (some 40
        # events here), well before the default 256 batches would have been reached.
        sent = 0
        while await _active_subscriptions(api) == 1:
            assert sent < 150, "the subscriber was not cut off after 150 events"
            await api.data(
                SEND, {"input": {"projectId": team.project_id, "body": body}}, team.freelancer.token
            )
            sent += 1
        received = 0
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(raw.recv(), 30)
                received += 1
        assert 0 < received < sent
    return closed.value


async def until_subscribed(api: Api, team: Team) -> None:
    await eventually(lambda: _subscribed(api), within=10)


async def _subscribed(api: Api) -> bool:
    return await _active_subscriptions(api) == 1


async def test_a_stock_graphql_client_subscribes(api: Api, server: RunningServer) -> None:
    """gql's websockets transport, as an application would use it."""
    from gql import Client, gql
    from gql.transport.exceptions import TransportQueryError
    from gql.transport.websockets import WebsocketsTransport

    team = await make_team(api)

    def transport(token: str) -> WebsocketsTransport:
        return WebsocketsTransport(
            url=server.ws_url,
            init_payload={"Authorization": f"Bearer {token}"},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )

    document = gql("subscription($id: ID!) { chatEvents(projectId: $id) { kind body } }")
    async with Client(transport=transport(team.client.token)) as session:
        stream = session.subscribe(document, variable_values={"id": team.project_id})
        first = asyncio.ensure_future(anext(stream))
        await wait_for_subscribers(1)
        await api.add_milestone(team.freelancer, team.project_id, "Via gql")
        event = (await asyncio.wait_for(first, 10))["chatEvents"]
        assert event["kind"] == "MILESTONE_ADDED" and "“Via gql”" in event["body"]
        await stream.aclose()

    async with Client(transport=transport(team.outsider.token)) as session:
        with pytest.raises(TransportQueryError) as refused:
            async for _ in session.subscribe(document, variable_values={"id": team.project_id}):
                pass
        assert refused.value.errors is not None
        assert refused.value.errors[0]["extensions"]["code"] == "NOT_FOUND"
