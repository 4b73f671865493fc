"""requestMilestoneChanges: the project's client sends a completed milestone back, saying why."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import Milestone
from schema.authorize import authorized_find
from schema.context import Info
from schema.inputs import RequestMilestoneChangesInput
from schema.payloads import MilestonePayload
from services import acceptance, access


async def request_milestone_changes(
    info: Info,
    input: Annotated[
        RequestMilestoneChangesInput,
        strawberry.argument(description="The completed milestone and what to change."),
    ],
) -> MilestonePayload | None:
    milestone = await authorized_find(
        info, Milestone, input.milestone_id, access.can_review_milestones
    )
    viewer = info.context.require_viewer()
    project, milestone = await acceptance.request_milestone_changes(viewer, milestone, input.reason)
    return MilestonePayload.succeeded(project, milestone, viewer)
