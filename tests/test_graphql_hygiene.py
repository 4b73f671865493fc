"""Limits, batching and the endpoints around /graphql."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support import Api, RunningServer, future

# 50 projects with up to 100 milestones each: 5,050 nodes, under the cost limit.
PROJECTS_DEEP = """{ projects(first: 50) { edges { node {
  client { name } freelancer { name } milestones { title } } } } }"""


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.queries: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not message.startswith(("Created connection", "Closed connection")):
            self.queries.append(message)


@contextmanager
def counting_queries() -> Iterator[_Counter]:
    logger = logging.getLogger("tortoise.db_client")
    counter, level = _Counter(), logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)


async def test_query_count_does_not_grow_with_projects(api: Api) -> None:
    admin = await api.admin()
    client = await api.sign_up("CLIENT")
    counts = []
    for _ in range(2):
        for _ in range(3):
            freelancer = await api.sign_up("FREELANCER")
            project_id = await api.create_project(client, freelancer, payment_required=False)
            await api.unlock(admin, project_id, pay=False)
            await api.add_milestone(freelancer, project_id, "One", future(3))
            await api.add_milestone(freelancer, project_id, "Two", future(4))
        with counting_queries() as counter:
            data = await api.data(PROJECTS_DEEP, None, client.token)
        counts.append(len(counter.queries))
        assert all(len(e["node"]["milestones"]) == 2 for e in data["projects"]["edges"])
    assert len(data["projects"]["edges"]) == 6
    assert counts[0] == counts[1], counts
    assert counts[1] <= 7, counts


def _nested(levels: int) -> str:
    """A `projects` query whose deepest field sits `levels` levels down.

    Through one-message chat pages: nested milestone lists would pass the cost limit first.
    """
    inner = "__typename"
    for name in reversed((["chat(first: 1)", "edges", "node", "project"] * levels)[: levels - 3]):
        inner = f"{name} {{ {inner} }}"
    return f"{{ projects {{ edges {{ node {{ {inner} }} }} }} }}"


async def test_depth_limit(api: Api) -> None:
    client = await api.sign_up("CLIENT")
    allowed = await api.post(_nested(12), None, client.token)
    assert "errors" not in allowed, allowed
    body = await api.post(_nested(13), None, client.token)
    assert body.get("data") is None
    assert "depth" in body["errors"][0]["message"].lower()


async def test_alias_limit(api: Api) -> None:
    client = await api.sign_up("CLIENT")
    many = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(40)) + " }"
    body = await api.post(many, None, client.token)
    assert "alias" in body["errors"][0]["message"].lower()


async def test_token_limit(api: Api) -> None:
    huge = "{ " + " ".join("me { id name role }" for _ in range(1000)) + " }"
    body = await api.post(huge)
    assert "token" in body["errors"][0]["message"].lower()


async def test_malformed_document_is_a_graphql_error(api: Api) -> None:
    body = await api.post("{ me { id ")
    assert body["errors"] and body.get("data") is None
    body = await api.post("{ me { nonsense } }")
    assert "nonsense" in body["errors"][0]["message"]


async def test_graphiql_and_health(api: Api, server: RunningServer) -> None:
    page = await api.client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    health = await api.client.get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}


async def test_graphiql_needs_no_internet(api: Api) -> None:
    page = (await api.client.get("/graphql", headers={"Accept": "text/html"})).text
    assert "https://" not in re.sub(r"https://(github\.com|graphql\.org)[^\"' ]*", "", page)
    assets = re.findall(r'(?:src|href)="(/graphiql/[^"]+)"\s+integrity="([^"]+)"', page)
    assert len(assets) == 7
    for path, integrity in assets:
        response = await api.client.get(path)
        assert response.status_code == 200, path
        # What a browser checks before it runs the file.
        digest = base64.b64encode(hashlib.sha384(response.content).digest()).decode()
        assert integrity == f"sha384-{digest}", path
