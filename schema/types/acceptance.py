"""What the API shows of the client's word on finished work: a milestone's state, and the
requests for changes it was sent back with (services/acceptance.py holds the rules)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import strawberry

from models import ChangeRequest, Milestone, User
from models import MilestoneState as MilestoneStateModel
from models.rows import MilestoneRow
from schema.context import Info
from schema.types.common import described_enum
from schema.types.user import UserType, load_user
from services.acceptance import CHANGE_REQUESTS_SHOWN

# The descriptions of Milestone's acceptance fields, kept with the rest of what the API
# shows of acceptance.
STATE = "OPEN, then COMPLETED once ticked, then ACCEPTED once the client (or the clock) accepts it."
ACCEPTED_AT = "When it was accepted; null unless ACCEPTED."
ACCEPTED_BY = "The client who accepted it; null unless accepted by a person."
AUTO_ACCEPT_AT = (
    "While COMPLETED: when it will be accepted automatically (null when automatic acceptance "
    "is off)."
)
CHANGE_REQUESTS = (
    "The client's requests for changes to this milestone, newest first (the "
    f"{CHANGE_REQUESTS_SHOWN} newest)."
)

if TYPE_CHECKING:  # described_enum returns the class it registers
    MilestoneState = MilestoneStateModel
else:
    MilestoneState = described_enum(
        MilestoneStateModel,
        name="MilestoneState",
        description="Where a milestone stands: open, waiting for the client's word, or accepted.",
        values={
            MilestoneStateModel.OPEN: "Not done yet (also after the client asked for changes).",
            MilestoneStateModel.COMPLETED: (
                "Ticked complete by the freelancer; waiting for the client's word."
            ),
            MilestoneStateModel.ACCEPTED: "Accepted by the client, or automatically; final.",
        },
    )


@strawberry.type(
    name="ChangeRequest",
    description="The client sent a completed milestone back to the freelancer, saying why.",
)
class ChangeRequestType:
    reason: str = strawberry.field(description="What the client asked to change, as written.")
    created_at: dt.datetime = strawberry.field(description="When the client sent it back.")
    model: strawberry.Private[ChangeRequest]
    project_id: strawberry.Private[int]
    viewer: strawberry.Private[User | None]

    @strawberry.field(description="The client who asked for the changes.")
    async def requested_by(self, info: Info) -> UserType:
        user = await load_user(info, self.model.requested_by_id, self.project_id, self.viewer)
        assert user is not None  # users are never deleted (ON DELETE RESTRICT)
        return user


async def change_requests(
    info: Info, milestone: Milestone | MilestoneRow, viewer: User | None
) -> list[ChangeRequestType]:
    """A milestone's requests for changes, newest first, through the request's loader."""
    found = await info.context.loaders.change_requests_by_milestone.load(milestone.id)
    return [
        ChangeRequestType(
            reason=request.reason,
            created_at=request.created_at,
            model=request,
            project_id=milestone.project_id,
            viewer=viewer,
        )
        for request in found[:CHANGE_REQUESTS_SHOWN]
    ]
