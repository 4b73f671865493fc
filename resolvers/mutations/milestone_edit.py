"""editMilestone: the project's freelancer changes a milestone's title, description or date."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import Milestone
from schema.authorize import authorized_find
from schema.context import Info
from schema.inputs import EditMilestoneInput
from schema.payloads import MilestonePayload
from services import access, milestones


async def edit_milestone(
    info: Info,
    input: Annotated[
        EditMilestoneInput, strawberry.argument(description="The milestone and its new values.")
    ],
) -> MilestonePayload | None:
    milestone = await authorized_find(info, Milestone, input.id, access.can_change_milestones)
    project, milestone = await milestones.edit_milestone(
        info.context.require_viewer(),
        milestone,
        title=input.title,
        description=input.description,
        due_date=input.due_date,
    )
    return MilestonePayload.succeeded(project, milestone, info.context.viewer)
