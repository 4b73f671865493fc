"""unlockMilestones: an admin opens a project's milestones (idempotent)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import Project
from schema.authorize import authorized_find
from schema.context import Info
from schema.inputs import ProjectRefInput
from schema.payloads import ProjectPayload
from schema.types.project import ProjectType
from services import access, projects


async def unlock_milestones(
    info: Info,
    input: Annotated[ProjectRefInput, strawberry.argument(description="The project to unlock.")],
) -> ProjectPayload | None:
    project = await authorized_find(info, Project, input.project_id, access.can_administer_project)
    viewer = info.context.require_viewer()
    project = await projects.unlock_milestones(viewer, project)
    return ProjectPayload(errors=[], project=ProjectType.build(project, viewer))
