"""setProjectTimeZone: the client (or an admin) sets the zone in which due dates end."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import Project
from schema.authorize import authorized_find
from schema.context import Info
from schema.inputs import SetProjectTimeZoneInput
from schema.payloads import ProjectPayload
from schema.types.project import ProjectType
from services import access, projects


async def set_project_time_zone(
    info: Info,
    input: Annotated[
        SetProjectTimeZoneInput, strawberry.argument(description="The project and its zone.")
    ],
) -> ProjectPayload | None:
    project = await authorized_find(info, Project, input.project_id, access.can_set_time_zone)
    project = await projects.set_time_zone(project, input.time_zone)
    return ProjectPayload(errors=[], project=ProjectType.build(project, info.context.viewer))
