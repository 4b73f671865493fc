"""setMilestoneCompleted: the project's freelancer ticks or unticks a milestone."""

from __future__ import annotations

from schema.context import Info
from schema.ids import pk_of
from schema.inputs import SetMilestoneCompletedInput
from schema.payloads import MilestonePayload
from schema.types.common import user_errors
from services import milestones
from services.errors import UserInputError


async def set_milestone_completed(
    info: Info, input: SetMilestoneCompletedInput
) -> MilestonePayload | None:
    viewer = info.context.require_viewer()
    try:
        project, milestone = await milestones.set_milestone_completed(
            viewer, pk_of(input.id, "Milestone") or 0, input.completed
        )
    except UserInputError as e:
        return MilestonePayload(errors=user_errors(e.errors))
    return MilestonePayload.succeeded(project, milestone, viewer)
