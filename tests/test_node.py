"""`node(id:)` fetches any object the viewer may see, and nothing else."""

from __future__ import annotations

from tests.support import Api, future, make_team

NODE = """query($id: ID!) { node(id: $id) {
  __typename id
  ... on Milestone { title project { id } }
  ... on ChatMessage { kind milestone { id } project { id } }
  ... on Project { title }
  ... on User { name } } }"""
CHAT = "query($id: ID!) { project(id: $id) { chat(last: 1) { edges { node { id } } } } }"


async def test_node_resolves_every_type_for_members_only(api: Api) -> None:
    team = await make_team(api)
    milestone = (await api.add_milestone(team.freelancer, team.project_id, "Spec", future(3)))[
        "milestone"
    ]
    chat = await api.data(CHAT, {"id": team.project_id}, team.client.token)
    event_id = chat["project"]["chat"]["edges"][0]["node"]["id"]

    got = (await api.data(NODE, {"id": milestone["id"]}, team.client.token))["node"]
    assert got == {
        "__typename": "Milestone",
        "id": milestone["id"],
        "title": "Spec",
        "project": {"id": team.project_id},
    }
    event = (await api.data(NODE, {"id": event_id}, team.admin.token))["node"]
    assert event["__typename"] == "ChatMessage" and event["kind"] == "MILESTONE_ADDED"
    assert event["milestone"] == {"id": milestone["id"]}
    project = (await api.data(NODE, {"id": team.project_id}, team.freelancer.token))["node"]
    assert project["__typename"] == "Project"
    me = (await api.data(NODE, {"id": team.client.id}, team.client.token))["node"]
    assert me["name"] == team.client.name

    for hidden in (milestone["id"], event_id, team.project_id, "not-an-id"):
        body = await api.post(NODE, {"id": hidden}, team.outsider.token)
        assert body["data"]["node"] is None
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    anonymous = await api.post(NODE, {"id": team.project_id})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
