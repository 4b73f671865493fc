"""The whole flow once: sign up, create, pay, unlock, add, complete."""

from tests.support import Api, future, make_team

PROJECT = """query($id: ID!) { project(id: $id) {
  title milestonesUnlocked milestoneProgress { total completed }
  milestones { title dueDate completed }
  chat(last: 20) { edges { node { kind body author { id } actor { id } } } } } }"""


async def test_flow(api: Api) -> None:
    team = await make_team(api)
    added = await api.add_milestone(team.freelancer, team.project_id, "Schema review", future(5))
    assert added["errors"] == []
    done = await api.data(
        """mutation($input: SetMilestoneCompletedInput!) {
             setMilestoneCompleted(input: $input) { errors { code } milestone { completed } } }""",
        {"input": {"id": added["milestone"]["id"], "completed": True}},
        team.freelancer.token,
    )
    assert done["setMilestoneCompleted"]["milestone"]["completed"] is True
    project = (await api.data(PROJECT, {"id": team.project_id}, team.client.token))["project"]
    assert project["milestoneProgress"] == {"total": 1, "completed": 1}
    kinds = [e["node"]["kind"] for e in project["chat"]["edges"]]
    assert kinds == ["MILESTONES_UNLOCKED", "MILESTONE_ADDED", "MILESTONE_COMPLETED"]
