"""deleteMilestone: the project's freelancer removes a milestone."""

from __future__ import annotations

from schema.context import Info
from schema.ids import pk_of
from schema.inputs import DeleteMilestoneInput
from schema.payloads import DeleteMilestonePayload
from schema.types.common import user_errors
from schema.types.project import ProjectType
from services import milestones
from services.errors import UserInputError


async def delete_milestone(
    info: Info, input: DeleteMilestoneInput
) -> DeleteMilestonePayload | None:
    viewer = info.context.require_viewer()
    try:
        project = await milestones.delete_milestone(viewer, pk_of(input.id, "Milestone") or 0)
    except UserInputError as e:
        return DeleteMilestonePayload(errors=user_errors(e.errors))
    return DeleteMilestonePayload(
        errors=[], deleted_milestone_id=input.id, project=ProjectType.build(project, viewer)
    )
