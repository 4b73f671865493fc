"""recordInitialPayment: an admin records the client's initial payment (idempotent)."""

from __future__ import annotations

from schema.context import Info
from schema.ids import pk_of
from schema.inputs import ProjectRefInput
from schema.payloads import ProjectPayload
from schema.types.project import ProjectType
from services import projects


async def record_initial_payment(info: Info, input: ProjectRefInput) -> ProjectPayload | None:
    viewer = info.context.require_viewer()
    project = await projects.record_initial_payment(pk_of(input.project_id, "Project") or 0)
    return ProjectPayload(errors=[], project=ProjectType.build(project, viewer))
