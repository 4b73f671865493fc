"""acceptMilestone: the project's client accepts a completed milestone, for good."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import Milestone
from schema.authorize import authorized_find
from schema.context import Info
from schema.inputs import AcceptMilestoneInput
from schema.payloads import MilestonePayload
from services import acceptance, access


async def accept_milestone(
    info: Info,
    input: Annotated[
        AcceptMilestoneInput, strawberry.argument(description="The completed milestone.")
    ],
) -> MilestonePayload | None:
    milestone = await authorized_find(
        info, Milestone, input.milestone_id, access.can_review_milestones
    )
    viewer = info.context.require_viewer()
    project, milestone = await acceptance.accept_milestone(viewer, milestone)
    return MilestonePayload.succeeded(project, milestone, viewer)
