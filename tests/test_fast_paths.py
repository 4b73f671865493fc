"""The fast paths resting on frameworks' unpublished parts (frameworks/) answer as the public
paths do, and turn themselves off outside the releases they were tested with.

Two `python server.py` processes share one SQLite file: one with its fast paths on (the
default), one with FAST_PATHS=0, as a process with untested framework versions runs. Each
gets the same queries, mutations and chat subscriptions over HTTP and WebSocket; their
answers must be equal, and GET /metrics must show that each fast path served in the first
process and none in the second.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from frameworks import fast_paths
from frameworks.fast_paths import ALL, configure, parse_version
from tests.support import Api, Team, future
from tests.support_processes import api_for, create_admin, make_team_with, server_process
from tests.support_ws import CHAT_EVENTS, WsClient, drain_all, send, until_live, ws_url
from tests.test_metrics import scrape, value

PROJECT = """query($id: ID!) { project(id: $id) {
  id title description completionDate initialPaymentRequired milestonesUnlocked
  viewerCanEditMilestones timeZone createdAt
  client { id name role email } freelancer { id name role email }
  milestones { id title description dueDate completed completedAt dueAt overdue createdAt }
  milestoneProgress { total completed }
  chat(last: 100) { edges { cursor node { id kind body createdAt author { id name }
    actor { id name } milestone { id title } changes { field from to } } }
    pageInfo { hasPreviousPage hasNextPage } }
} }"""
QUERIES: list[tuple[str, dict[str, Any]]] = [
    (PROJECT, {}),
    ("{ me { id name role email } }", {}),
    ("{ projects(first: 5) { totalCount edges { node { id title } } } }", {}),
    ("query($id: ID!) { node(id: $id) { id ... on Project { title } } }", {}),
    # Errors take the full path in both: an unknown field, a missing project.
    ("{ me { id nonsense } }", {}),
    ("query($id: ID!) { project(id: $id) { id } }", {"id": "UHJvamVjdDo5OTk5OTk"}),
]
ADD = """mutation($input: AddMilestoneInput!) { addMilestone(input: $input) {
  errors { code field message } milestone { title description dueDate completed overdue } } }"""
# What differs between two messages posted alike: their IDs and times.
_VOLATILE = re.compile(r'"(id|createdAt|cursor)": "[^"]*"')


def _same_but_ids(message: dict[str, Any]) -> str:
    return _VOLATILE.sub(r'"\1": "?"', json.dumps(message, sort_keys=True))


@contextlib.asynccontextmanager
async def _two_servers(tmp_path: Path) -> AsyncIterator[tuple[Api, Api]]:
    database_url = f"sqlite://{tmp_path / 'db.sqlite3'}"
    on = {"METRICS": "1", "MAIL_WORKER": "0"}
    async with (
        server_process(database_url, "", tmp_path, "fast", env=on) as fast_url,
        server_process(database_url, "", tmp_path, "public", env=on | {"FAST_PATHS": "0"}) as url,
        api_for(fast_url) as fast,
        api_for(url) as public,
    ):
        yield fast, public


async def _answers(api: Api, team: Team) -> list[Any]:
    answers = []
    for query, variables in QUERIES:
        variables = variables or {"id": team.project_id}
        for account in (team.client, team.freelancer, team.outsider):
            answers.append(await api.post(query, variables, account.token))
    return answers


async def _chat(api: Api, url: str, team: Team, after: str) -> tuple[list[str], list[Any]]:
    """A live event and a resumed replay, as the client sees them."""
    async with WsClient.open(ws_url(url), team.client.token) as ws:
        op = await ws.subscribe(team.project_id)
        await until_live(ws, api, team)
        await drain_all(ws)
        await send(api, team.freelancer, team.project_id, "hello over the fast path?")
        live = [_same_but_ids(await ws.event(op))]
        await ws.send({"id": op, "type": "complete"})
        await send(api, team.freelancer, team.project_id, "not for a completed subscription")
        await ws.nothing(0.3)
        variables = {"id": team.project_id, "after": after}
        query = CHAT_EVENTS.replace("($id: ID!)", "($id: ID!, $after: ID)").replace(
            "(projectId: $id)", "(projectId: $id, after: $after)"
        )
        await ws.send(
            {"id": "r", "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )
        replay = [await ws.event("r") for _ in range(3)]
    return live, replay


async def test_fast_and_public_paths_answer_alike_and_the_fast_one_ran(tmp_path: Path) -> None:
    async with _two_servers(tmp_path) as (fast, public):
        admin = await create_admin(fast, f"sqlite://{tmp_path / 'db.sqlite3'}", tmp_path)
        team = await make_team_with(fast, admin)
        for title in ("Design", "Build", "Ship"):
            await fast.add_milestone(team.freelancer, team.project_id, title, future(20))
        first = await fast.data(
            "mutation($i: SendChatMessageInput!) { sendChatMessage(input: $i) { message { id } } }",
            {"i": {"projectId": team.project_id, "body": "before everything"}},
            team.client.token,
        )
        after = first["sendChatMessage"]["message"]["id"]
        for body in ("one", "two", "three"):
            await send(fast, team.client, team.project_id, body)

        assert await _answers(fast, team) == await _answers(public, team)

        for title, due in (("Launch", future(30)), ("", future(30)), ("Too late", "1999-01-01")):
            variables = {"input": {"projectId": team.project_id, "title": title, "dueDate": due}}
            fast_answer = await fast.post(ADD, variables, team.freelancer.token)
            assert fast_answer == await public.post(ADD, variables, team.freelancer.token)

        fast_url, public_url = str(fast.client.base_url), str(public.client.base_url)
        fast_chat = await _chat(fast, fast_url, team, after)
        public_chat = await _chat(public, public_url, team, after)
        assert fast_chat == public_chat
        assert [event["body"] for event in fast_chat[1]] == ["one", "two", "three"]

        ran, not_ran = await scrape(fast), await scrape(public)
    for path in ALL:
        assert value(ran, "milestones_fast_path_on", path=path.name) == 1, path.name
        assert value(ran, "milestones_fast_path_runs_total", path=path.name) > 0, path.name
        assert value(not_ran, "milestones_fast_path_on", path=path.name) == 0, path.name
        assert value(not_ran, "milestones_fast_path_runs_total", path=path.name) == 0, path.name


@pytest.fixture
def restored() -> Any:
    """Put every fast path back as this process's versions have it, whatever the test did."""
    yield
    configure()


def test_a_release_outside_the_tested_range_turns_its_fast_paths_off_with_one_warning(
    restored: None, caplog: pytest.LogCaptureFixture
) -> None:
    installed = {
        tested.distribution: ".".join(map(str, tested.lowest))
        for path in ALL
        for tested in path.tested
    }
    with caplog.at_level(logging.WARNING, "milestones.frameworks"):
        assert configure(installed=installed) == []
        assert all(path.on for path in ALL)
        assert caplog.records == []

        newer = installed | {"uvicorn": "0.56.0"}
        off = configure(installed=newer)
    assert off == [fast_paths.LEAN_WEBSOCKETS, fast_paths.HTTP_DEADLINES]
    assert [path.on for path in ALL] == [path not in off for path in ALL]
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2
    assert "lean_websockets is off" in lines[0]
    assert "uvicorn 0.56.0 (uvicorn >=0.54,<0.56)" in lines[0]


def test_a_missing_distribution_or_fast_paths_0_turns_them_off(restored: None) -> None:
    assert fast_paths.PLAIN_LEAVES in configure(installed={})
    assert configure(enabled=False) == list(ALL)
    assert not any(path.on for path in ALL)


def test_versions_are_read_as_their_leading_numbers() -> None:
    assert parse_version("0.341.3") == (0, 341, 3)
    assert parse_version("3.3.0a1") == (3, 3, 0)
    assert parse_version("1.1.9.post1") == (1, 1, 9)
    assert fast_paths.STRAWBERRY.admits(parse_version("0.341.3"))
    assert not fast_paths.STRAWBERRY.admits(parse_version("0.342.0"))
    assert not fast_paths.GRAPHQL_CORE.admits(parse_version("3.2.8"))
