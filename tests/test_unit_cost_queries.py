"""What the cost limit and batched chat pages spare the database, counted from inside.

The probes of tests/security/test_cost.py go through HTTP only; these count the SQL the
in-process server runs (Tortoise's query log), which no client can see.
"""

from __future__ import annotations

from tests.security.test_cost import probe, refused, say
from tests.support import Api, make_team
from tests.test_graphql_hygiene import counting_queries


async def test_a_refused_probe_reads_no_project_and_no_chat(api: Api) -> None:
    team = await make_team(api)
    await say(api, team, "there is something to read")
    with counting_queries() as counter:
        body = await api.post(probe(100, 100, 3), {"id": team.project_id}, team.client.token)
    refused(body, 100 + 100 * 100 + 100 * 100 * 3)
    # Only the token was looked up: no project, no chat was read.
    assert counter.queries and not any(
        table in q for q in counter.queries for table in ('"project"', '"chat_message"')
    ), counter.queries


PROJECTS_CHATS = """{ projects(first: 50) { edges { node { id
  chat(last: 20) { pageInfo { hasPreviousPage hasNextPage } edges { node { body project { id } } } }
} } } }"""


async def test_chat_pages_of_many_projects_cost_a_constant_number_of_queries(api: Api) -> None:
    team = await make_team(api, payment_required=False)
    counts = []
    for round_ in range(2):
        for n in range(3):
            project_id = await api.create_project(team.client, team.freelancer, title=f"P{n}")
            await say(api, team, f"hello {round_}.{n}", project_id)
        with counting_queries() as counter:
            data = await api.data(PROJECTS_CHATS, None, team.client.token)
        counts.append(len(counter.queries))
    for _ in range(21):
        await say(api, team, "busy")  # the first project's chat now runs past one page
    data = await api.data(PROJECTS_CHATS, None, team.client.token)
    projects = [e["node"] for e in data["projects"]["edges"]]
    assert len(projects) == 7
    assert counts[0] == counts[1] <= 8, counts
    for project in projects:
        chat = project["chat"]
        assert all(e["node"]["project"]["id"] == project["id"] for e in chat["edges"])
        busy = project["id"] == team.project_id
        assert chat["pageInfo"] == {"hasPreviousPage": busy, "hasNextPage": False}
        if busy:
            assert [e["node"]["body"] for e in chat["edges"]] == ["busy"] * 20
        else:
            assert chat["edges"][-1]["node"]["body"].startswith("hello")
