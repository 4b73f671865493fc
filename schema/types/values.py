"""Small value types shown on projects and chat events."""

from __future__ import annotations

import strawberry

from models import FieldChange as FieldChangeModel
from services.schedule import Warning


@strawberry.type(description="One field of a milestone edit, with its old and new value.")
class FieldChange:
    field: str = strawberry.field(description="title, description or dueDate")
    from_: str | None = strawberry.field(
        name="from", description="The old value; dates as ISO 8601 (2027-01-31)."
    )
    to: str | None = strawberry.field(description="The new value; dates as ISO 8601.")

    @classmethod
    def build(cls, change: FieldChangeModel) -> FieldChange:
        return cls(field=change.field, from_=change.old, to=change.new)


@strawberry.type(description="How many milestones there are, and how many are completed.")
class MilestoneProgress:
    total: int = strawberry.field(description="Number of milestones.")
    completed: int = strawberry.field(description="Number of completed milestones.")


@strawberry.type(description="A hint for the freelancer about the milestone schedule.")
class ScheduleWarning:
    code: str = strawberry.field(
        description="Stable code, e.g. LAST_MILESTONE_NOT_ON_COMPLETION_DATE."
    )
    message: str = strawberry.field(description="Human-readable explanation.")

    @classmethod
    def build(cls, warning: Warning) -> ScheduleWarning:
        return cls(code=warning.code, message=warning.message)
