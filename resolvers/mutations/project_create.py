"""createProject: a client (or an admin, for any client) starts a project with a freelancer."""

from __future__ import annotations

from schema.context import Info
from schema.inputs import CreateProjectInput
from schema.payloads import ProjectPayload
from schema.types.common import user_errors
from schema.types.project import ProjectType
from services import projects
from services.errors import UserInputError


async def create_project(info: Info, input: CreateProjectInput) -> ProjectPayload | None:
    viewer = info.context.require_viewer()
    try:
        project = await projects.create_project(
            viewer,
            title=input.title,
            description=input.description or "",
            freelancer_id=input.freelancer_id,
            client_id=input.client_id,
            completion_date=input.completion_date,
            initial_payment_required=input.initial_payment_required is not False,
        )
    except UserInputError as e:
        return ProjectPayload(errors=user_errors(e.errors))
    return ProjectPayload(errors=[], project=ProjectType.build(project, viewer))
