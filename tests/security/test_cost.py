"""The query cost limit and the milestone cap, probed over HTTP and WebSocket only.

A document that may return more than 10,000 nodes is refused before it runs, with one
COST_LIMIT_EXCEEDED error naming its cost; each refusal is set beside the same shape at a
size under the limit, which runs.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.support import Api, RunningServer, Team, make_team
from tests.support_ws import SEND, WsClient, wait_for_subscribers

LIMIT = 10_000


def chain(*sizes: int) -> str:
    """`chat(first: a) { edges { node { project { chat(first: b) { ... { id } } } } } } }`."""
    inner = f"chat(first: {sizes[-1]}) {{ edges {{ node {{ id }} }} }}"
    for size in reversed(sizes[:-1]):
        inner = f"chat(first: {size}) {{ edges {{ node {{ project {{ {inner} }} }} }} }}"
    return inner


def probe(*sizes: int) -> str:
    return f"query($id: ID!) {{ project(id: $id) {{ {chain(*sizes)} }} }}"


def refused(body: dict[str, Any], cost: int) -> None:
    """Refused before execution: no data, one error naming the cost and the limit."""
    assert body.get("data") is None, body
    [error] = body["errors"]
    assert error["extensions"] == {"code": "COST_LIMIT_EXCEEDED", "cost": cost, "limit": LIMIT}
    assert str(cost) in error["message"] and str(LIMIT) in error["message"]


@pytest.fixture
async def team(api: Api) -> Team:
    return await make_team(api)


async def say(api: Api, team: Team, body: str, project_id: str | None = None) -> None:
    variables = {"input": {"projectId": project_id or team.project_id, "body": body}}
    await api.data(SEND, variables, team.client.token)


async def test_the_nested_chat_probe_is_refused_before_it_runs(api: Api, team: Team) -> None:
    # That it reads no project and no chat is counted in tests/test_unit_cost_queries.py.
    await say(api, team, "there is something to read")
    variables = {"id": team.project_id}
    started = time.monotonic()
    body = await api.post(probe(100, 100, 3), variables, team.client.token)
    elapsed = time.monotonic() - started
    refused(body, 100 + 100 * 100 + 100 * 100 * 3)
    assert elapsed < 5, elapsed  # 20,400 chat messages would take far longer

    # Positive control: the same shape, smaller, runs and returns every level.
    data = await api.data(probe(10, 10, 3), variables, team.client.token)
    flat = await api.data(probe(100), variables, team.client.token)
    total = len(flat["project"]["chat"]["edges"])
    outer = data["project"]["chat"]["edges"]
    assert len(outer) == min(10, total) > 0
    middle = outer[0]["node"]["project"]["chat"]["edges"]
    assert len(middle) == min(10, total)
    inner = middle[-1]["node"]["project"]["chat"]["edges"]
    assert len(inner) == min(3, total) and all(e["node"]["id"] for e in inner)


async def test_aliases_add_up(api: Api, team: Team) -> None:
    def aliased(count: int) -> str:
        # Each alias: 49 messages, each naming its project's 100 milestones: 4,949 nodes.
        each = "chat(first: 49) { edges { node { project { milestones { id } } } } }"
        fields = " ".join(f"a{i}: project(id: $id) {{ {each} }}" for i in range(count))
        return f"query($id: ID!) {{ {fields} }}"

    variables = {"id": team.project_id}
    refused(await api.post(aliased(30), variables, team.client.token), 30 * 4_949)
    refused(await api.post(aliased(3), variables, team.client.token), 3 * 4_949)
    under = await api.data(aliased(2), variables, team.client.token)  # 9,898
    assert len(under) == 2 and under["a1"] == under["a0"] and under["a0"]["chat"]["edges"]


async def test_fragments_are_followed(api: Api, team: Team) -> None:
    def document(size: int) -> str:
        return f"""query($id: ID!) {{ a: project(id: $id) {{ ...Chat }} b: node(id: $id) {{
              ... on Project {{ ...Chat }} }} }}
            fragment Chat on Project {{ chat(first: 100) {{ edges {{ node {{
              ... on ChatMessage {{ project {{ chat(first: {size}) {{ edges {{ node {{ id }} }} }} }} }}
            }} }} }} }}"""

    variables = {"id": team.project_id}
    refused(await api.post(document(50), variables, team.client.token), 2 * (100 + 100 * 50))
    data = await api.data(document(49), variables, team.client.token)  # 2 × 5,000
    assert data["a"]["chat"]["edges"] and data["a"] == data["b"]


async def test_variables_set_the_page_sizes(api: Api, team: Team) -> None:
    document = """query($id: ID!, $n: Int = 100) { project(id: $id) {
      chat(first: $n) { edges { node { project { chat(last: $n) { edges { node { id } } } } } } }
    } }"""
    token = team.client.token
    refused(await api.post(document, {"id": team.project_id, "n": 100}, token), 100 + 100 * 100)
    # Null is the field's own default (20); left out, the variable's default (100) applies.
    cheap = await api.data(document, {"id": team.project_id, "n": None}, token)
    assert cheap["project"]["chat"]["edges"]
    refused(await api.post(document, {"id": team.project_id}, token), 100 + 100 * 100)
    data = await api.data(document, {"id": team.project_id, "n": 99}, token)  # 9,900
    assert data["project"]["chat"]["edges"]


async def test_a_mutation_over_the_limit_changes_nothing(api: Api, team: Team) -> None:
    def document(size: int) -> str:
        return f"""mutation($input: SendChatMessageInput!) {{ sendChatMessage(input: $input) {{
          errors {{ code }} message {{ project {{ {chain(100, size)} }} }} }} }}"""

    def sending(body: str) -> dict[str, Any]:
        return {"input": {"projectId": team.project_id, "body": body}}

    # The payload's errors count 10: at most one per input field.
    refused(await api.post(document(100), sending("refused"), team.client.token), 10 + 10_100)
    sent = await api.data(document(98), sending("sent"), team.client.token)  # 9,910
    assert sent["sendChatMessage"]["errors"] == []
    read = await api.data(
        "query($id: ID!) { project(id: $id) { chat(last: 100) { edges { node { body } } } } }",
        {"id": team.project_id},
        team.client.token,
    )
    bodies = [e["node"]["body"] for e in read["project"]["chat"]["edges"]]
    assert "sent" in bodies and "refused" not in bodies


async def test_a_subscription_over_the_limit_is_refused_over_websocket(
    api: Api, team: Team, server: RunningServer, subscriber_baseline: None
) -> None:
    def document(size: int) -> str:
        return f"""subscription($id: ID!) {{ chatEvents(projectId: $id) {{
          project {{ {chain(100, size)} }} }} }}"""

    async with WsClient.open(server.ws_url, team.client.token) as ws:
        op = await ws.subscribe(team.project_id, document(100))
        message = await ws.receive()
        assert message["type"] == "error" and message["id"] == op, message
        [error] = message["payload"]
        assert error["extensions"] == {
            "code": "COST_LIMIT_EXCEEDED",
            "cost": 10_100,
            "limit": LIMIT,
        }

        live = await ws.subscribe(team.project_id, document(2))
        await wait_for_subscribers(1)
        await say(api, team, "live")
        event = await ws.event(live)
        assert event["project"]["chat"]["edges"]


async def test_a_project_holds_at_most_100_milestones(api: Api, team: Team) -> None:
    for i in range(100):
        added = await api.add_milestone(team.freelancer, team.project_id, f"M{i}")
        assert added["errors"] == [], added
    progress = """query($id: ID!) { project(id: $id) {
      milestoneProgress { total } chat(last: 1) { edges { node { id } } } } }"""

    async def state() -> dict[str, Any]:
        return (await api.data(progress, {"id": team.project_id}, team.client.token))["project"]

    before = await state()
    payload = await api.add_milestone(team.freelancer, team.project_id, "One too many")
    assert payload["milestone"] is None
    [error] = payload["errors"]
    assert error["code"] == "INVALID" and error["field"] is None and "100" in error["message"]
    assert await state() == before  # no milestone, no chat event

    listed = await api.data(
        "query($id: ID!) { project(id: $id) { milestones { id } } }",
        {"id": team.project_id},
        team.client.token,
    )
    first = listed["project"]["milestones"][0]["id"]
    deleted = await api.data(
        """mutation($input: DeleteMilestoneInput!) {
             deleteMilestone(input: $input) { errors { code } } }""",
        {"input": {"id": first}},
        team.freelancer.token,
    )
    assert deleted["deleteMilestone"]["errors"] == []
    added = await api.add_milestone(team.freelancer, team.project_id, "Room again")
    assert added["errors"] == [] and added["milestone"]["title"] == "Room again"
    assert (await state())["milestoneProgress"] == {"total": 100}
