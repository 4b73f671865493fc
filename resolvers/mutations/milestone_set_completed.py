"""setMilestoneCompleted: the project's freelancer ticks or unticks a milestone."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import Milestone
from schema.authorize import authorized_find
from schema.context import Info
from schema.inputs import SetMilestoneCompletedInput
from schema.payloads import MilestonePayload
from services import access, milestones


async def set_milestone_completed(
    info: Info,
    input: Annotated[
        SetMilestoneCompletedInput,
        strawberry.argument(description="The milestone and whether it is completed."),
    ],
) -> MilestonePayload | None:
    milestone = await authorized_find(info, Milestone, input.id, access.can_change_milestones)
    project, milestone = await milestones.set_milestone_completed(
        info.context.require_viewer(), milestone, input.completed
    )
    return MilestonePayload.succeeded(project, milestone, info.context.viewer)
