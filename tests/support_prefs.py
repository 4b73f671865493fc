"""Helpers for notification settings: reading and changing them over GraphQL, milestone
changes by the freelancer, and the chat a change posts."""

from __future__ import annotations

from typing import Any

from tests.support import Account, Api

SETTINGS = "milestoneChanges reminders timeZone"


async def update_settings(api: Api, account: Account, **changes: Any) -> dict[str, Any]:
    data = await api.data(
        "mutation($input: UpdateNotificationSettingsInput!) { updateNotificationSettings("
        f"input: $input) {{ errors {{ code field message }} settings {{ {SETTINGS} }} }} }}",
        {"input": changes},
        account.token,
    )
    return data["updateNotificationSettings"]


async def my_settings(api: Api, account: Account) -> dict[str, Any]:
    data = await api.data(
        f"{{ me {{ notificationSettings {{ {SETTINGS} }} }} }}", None, account.token
    )
    return data["me"]["notificationSettings"]


async def edit(api: Api, freelancer: Account, milestone_id: str, **values: Any) -> None:
    data = await api.data(
        "mutation($input: EditMilestoneInput!) { editMilestone(input: $input) { errors { code } } }",
        {"input": {"id": milestone_id, **values}},
        freelancer.token,
    )
    assert data["editMilestone"]["errors"] == [], data


async def complete(api: Api, freelancer: Account, milestone_id: str, done: bool) -> None:
    data = await api.data(
        "mutation($input: SetMilestoneCompletedInput!) { setMilestoneCompleted(input: $input) "
        "{ errors { code } } }",
        {"input": {"id": milestone_id, "completed": done}},
        freelancer.token,
    )
    assert data["setMilestoneCompleted"]["errors"] == [], data


async def delete(api: Api, freelancer: Account, milestone_id: str) -> None:
    data = await api.data(
        "mutation($input: DeleteMilestoneInput!) { deleteMilestone(input: $input) "
        "{ errors { code } } }",
        {"input": {"id": milestone_id}},
        freelancer.token,
    )
    assert data["deleteMilestone"]["errors"] == [], data


async def add(api: Api, freelancer: Account, project_id: str, title: str) -> str:
    added = await api.add_milestone(freelancer, project_id, title, "2031-03-01")
    assert added["errors"] == [], added
    return str(added["milestone"]["id"])


async def chat_kinds(api: Api, account: Account, project_id: str) -> list[str]:
    data = await api.data(
        "query($id: ID!) { project(id: $id) { chat(last: 100) { edges { node { kind } } } } }",
        {"id": project_id},
        account.token,
    )
    return [e["node"]["kind"] for e in data["project"]["chat"]["edges"]]
