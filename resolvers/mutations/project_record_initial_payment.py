"""recordInitialPayment: an admin records the client's initial payment (idempotent)."""

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


async def record_initial_payment(
    info: Info,
    input: Annotated[ProjectRefInput, strawberry.argument(description="The paid project.")],
) -> ProjectPayload | None:
    project = await authorized_find(info, Project, input.project_id, access.can_administer_project)
    project = await projects.record_initial_payment(project)
    return ProjectPayload(errors=[], project=ProjectType.build(project, info.context.viewer))
