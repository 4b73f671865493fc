"""unlockMilestones: an admin opens a project's milestones (idempotent)."""

from __future__ import annotations

from schema.context import Info
from schema.ids import pk_of
from schema.inputs import ProjectRefInput
from schema.payloads import ProjectPayload
from schema.types.common import user_errors
from schema.types.project import ProjectType
from services import projects
from services.errors import UserInputError


async def unlock_milestones(info: Info, input: ProjectRefInput) -> ProjectPayload | None:
    viewer = info.context.require_viewer()
    try:
        project = await projects.unlock_milestones(pk_of(input.project_id, "Project") or 0, viewer)
    except UserInputError as e:
        return ProjectPayload(errors=user_errors(e.errors))
    return ProjectPayload(errors=[], project=ProjectType.build(project, viewer))
