"""editMilestone: the project's freelancer changes a milestone's title, description or date."""

from __future__ import annotations

from schema.context import Info
from schema.ids import pk_of
from schema.inputs import EditMilestoneInput
from schema.payloads import MilestonePayload
from schema.types.common import user_errors
from services import milestones
from services.errors import UserInputError


async def edit_milestone(info: Info, input: EditMilestoneInput) -> MilestonePayload | None:
    viewer = info.context.require_viewer()
    try:
        project, milestone = await milestones.edit_milestone(
            viewer,
            pk_of(input.id, "Milestone") or 0,
            title=input.title,
            description=input.description,
            due_date=input.due_date,
        )
    except UserInputError as e:
        return MilestonePayload(errors=user_errors(e.errors))
    return MilestonePayload.succeeded(project, milestone, viewer)
