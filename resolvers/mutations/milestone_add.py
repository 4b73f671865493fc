"""addMilestone: the project's freelancer adds a milestone."""

from __future__ import annotations

from schema.context import Info
from schema.ids import pk_of
from schema.inputs import AddMilestoneInput
from schema.payloads import MilestonePayload
from schema.types.common import user_errors
from services import milestones
from services.errors import UserInputError


async def add_milestone(info: Info, input: AddMilestoneInput) -> MilestonePayload | None:
    viewer = info.context.require_viewer()
    try:
        project, milestone = await milestones.add_milestone(
            viewer,
            pk_of(input.project_id, "Project") or 0,
            title=input.title,
            description=input.description or "",
            due_date=input.due_date,
        )
    except UserInputError as e:
        return MilestonePayload(errors=user_errors(e.errors))
    return MilestonePayload.succeeded(project, milestone, viewer)
