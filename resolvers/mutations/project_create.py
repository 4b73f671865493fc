"""createProject: a client (or an admin, for any client) starts a project with a freelancer."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.context import Info
from schema.ids import key_of
from schema.inputs import CreateProjectInput
from schema.payloads import ProjectPayload
from schema.types.project import ProjectType
from services import projects


async def create_project(
    info: Info,
    input: Annotated[CreateProjectInput, strawberry.argument(description="The new project.")],
) -> ProjectPayload | None:
    viewer = info.context.require_viewer()
    project = await projects.create_project(
        viewer,
        title=input.title,
        description=input.description or "",
        freelancer_id=key_of(input.freelancer_id, "User"),
        client_id=key_of(input.client_id, "User") if input.client_id else None,
        completion_date=input.completion_date,
        initial_payment_required=input.initial_payment_required is not False,
        time_zone=input.time_zone,
    )
    return ProjectPayload(errors=[], project=ProjectType.build(project, viewer))
