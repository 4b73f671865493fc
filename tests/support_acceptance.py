"""Helpers for the acceptance tests: the client's word on a milestone over GraphQL."""

from __future__ import annotations

from typing import Any

from tests.support import Account, Api, Team

MILESTONE = """id title completed completedAt state acceptedAt autoAcceptAt overdue
  acceptedBy { id } changeRequests { reason createdAt requestedBy { id } }"""
ACCEPT = f"""mutation($input: AcceptMilestoneInput!) {{ acceptMilestone(input: $input) {{
  errors {{ code field message }} milestone {{ {MILESTONE} }} }} }}"""
SEND_BACK = f"""mutation($input: RequestMilestoneChangesInput!) {{
  requestMilestoneChanges(input: $input) {{
    errors {{ code field message }} milestone {{ {MILESTONE} }} }} }}"""
TICK = """mutation($input: SetMilestoneCompletedInput!) { setMilestoneCompleted(input: $input) {
  errors { code field } milestone { state completed } } }"""


async def mutate(api: Api, document: str, fields: dict[str, Any], caller: Account) -> Any:
    data = await api.data(document, {"input": fields}, caller.token)
    return next(iter(data.values()))


async def ticked(api: Api, team: Team, title: str = "Feature store", **extra: Any) -> str:
    """A COMPLETED milestone's id."""
    added = await api.add_milestone(team.freelancer, team.project_id, title, **extra)
    milestone_id: str = added["milestone"]["id"]
    done = await mutate(api, TICK, {"id": milestone_id, "completed": True}, team.freelancer)
    assert done["errors"] == [] and done["milestone"]["state"] == "COMPLETED", done
    return milestone_id


async def accept(api: Api, team: Team, milestone_id: str) -> dict[str, Any]:
    return dict(await mutate(api, ACCEPT, {"milestoneId": milestone_id}, team.client))


async def send_back(api: Api, team: Team, milestone_id: str, reason: str) -> dict[str, Any]:
    fields = {"milestoneId": milestone_id, "reason": reason}
    return dict(await mutate(api, SEND_BACK, fields, team.client))
