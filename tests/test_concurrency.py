"""Concurrent identical changes: exactly one of them changes something and tells anyone."""

from __future__ import annotations

import asyncio

from models import OutboxEmail
from tests.support import Api, future, make_team

TICK = """mutation($input: SetMilestoneCompletedInput!) { setMilestoneCompleted(input: $input) {
  errors { code } milestone { completed } } }"""
UNLOCK = """mutation($input: ProjectRefInput!) { unlockMilestones(input: $input) {
  errors { code } project { milestonesUnlocked } } }"""
KINDS = "query($id: ID!) { project(id: $id) { chat(last: 100) { edges { node { kind } } } } }"


async def kinds(api: Api, project_id: str, token: str) -> list[str]:
    data = await api.data(KINDS, {"id": project_id}, token)
    return [e["node"]["kind"] for e in data["project"]["chat"]["edges"]]


async def test_concurrent_ticks_post_once(api: Api) -> None:
    team = await make_team(api)
    added = await api.add_milestone(team.freelancer, team.project_id, "Race", future(3))
    ref = {"input": {"id": added["milestone"]["id"], "completed": True}}
    results = await asyncio.gather(*(api.data(TICK, ref, team.freelancer.token) for _ in range(8)))
    assert all(r["setMilestoneCompleted"]["milestone"]["completed"] for r in results)
    assert (await kinds(api, team.project_id, team.client.token)).count("MILESTONE_COMPLETED") == 1
    assert (
        await OutboxEmail.filter(to_address=team.client.email, kind="milestone_completed").count()
        == 1
    )


async def test_concurrent_unlocks_post_once(api: Api) -> None:
    team = await make_team(api, unlocked=False)
    ref = {"input": {"projectId": team.project_id}}
    await api.data(
        "mutation($input: ProjectRefInput!) { recordInitialPayment(input: $input) { errors { code } } }",
        ref,
        team.admin.token,
    )
    results = await asyncio.gather(*(api.data(UNLOCK, ref, team.admin.token) for _ in range(8)))
    assert all(r["unlockMilestones"]["project"]["milestonesUnlocked"] for r in results)
    assert await kinds(api, team.project_id, team.client.token) == ["MILESTONES_UNLOCKED"]
    assert await OutboxEmail.filter(to_address=team.freelancer.email).count() == 1
