"""deleteMilestone: the project's freelancer removes a milestone."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import Milestone
from schema.authorize import authorized_find
from schema.context import Info
from schema.inputs import DeleteMilestoneInput
from schema.payloads import DeleteMilestonePayload
from schema.types.project import ProjectType
from services import access, milestones


async def delete_milestone(
    info: Info,
    input: Annotated[
        DeleteMilestoneInput, strawberry.argument(description="The milestone to delete.")
    ],
) -> DeleteMilestonePayload | None:
    milestone = await authorized_find(info, Milestone, input.id, access.can_change_milestones)
    viewer = info.context.require_viewer()
    project = await milestones.delete_milestone(viewer, milestone)
    return DeleteMilestonePayload(
        errors=[], deleted_milestone_id=input.id, project=ProjectType.build(project, viewer)
    )
