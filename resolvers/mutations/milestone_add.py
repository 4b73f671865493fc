"""addMilestone: the project's freelancer adds a milestone."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import Project
from schema.authorize import authorized_find
from schema.context import Info
from schema.inputs import AddMilestoneInput
from schema.payloads import MilestonePayload
from services import access, milestones


async def add_milestone(
    info: Info,
    input: Annotated[AddMilestoneInput, strawberry.argument(description="The new milestone.")],
) -> MilestonePayload | None:
    project = await authorized_find(info, Project, input.project_id, access.can_change_milestones)
    project, milestone = await milestones.add_milestone(
        info.context.require_viewer(),
        project,
        title=input.title,
        description=input.description or "",
        due_date=input.due_date,
    )
    return MilestonePayload.succeeded(project, milestone, info.context.viewer)
