"""The Milestone type."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry

from models import Milestone, User
from schema.context import Info
from schema.ids import to_global_id
from schema.types.common import Node
from schema.types.user import UserType, load_user

if TYPE_CHECKING:
    from schema.types.project import ProjectType


@strawberry.type(name="Milestone", description="A dated step of a project.")
class MilestoneType(Node):
    id: strawberry.ID = strawberry.field(description="Opaque global ID.")
    title: str = strawberry.field(description="Title of the milestone.")
    description: str = strawberry.field(description="Short description; may be empty.")
    due_date: dt.date = strawberry.field(description="When the milestone is due.")
    completed: bool = strawberry.field(description="Whether the freelancer ticked it.")
    completed_at: dt.datetime | None = strawberry.field(description="When it was ticked.")
    overdue: bool = strawberry.field(description="Open and its due date is before today (UTC).")
    created_at: dt.datetime = strawberry.field(description="When it was added.")
    updated_at: dt.datetime = strawberry.field(description="When it last changed.")
    model: strawberry.Private[Milestone]
    viewer: strawberry.Private[User | None]

    @classmethod
    def build(cls, milestone: Milestone, viewer: User | None, today: dt.date) -> MilestoneType:
        completed = milestone.completed_at is not None
        return cls(
            id=strawberry.ID(to_global_id("Milestone", milestone.id)),
            title=milestone.title,
            description=milestone.description,
            due_date=milestone.due_date,
            completed=completed,
            completed_at=milestone.completed_at,
            overdue=not completed and milestone.due_date < today,
            created_at=milestone.created_at,
            updated_at=milestone.updated_at,
            model=milestone,
            viewer=viewer,
        )

    @strawberry.field(description="The project the milestone belongs to.")
    async def project(
        self, info: Info
    ) -> Annotated[ProjectType, strawberry.lazy("schema.types.project")]:
        from schema.types.project import load_project

        return await load_project(info, self.model.project_id, self.viewer)  # type: ignore[attr-defined]

    @strawberry.field(description="Who ticked it; null while open.")
    async def completed_by(self, info: Info) -> UserType | None:
        return await load_user(
            info,
            self.model.completed_by_id,  # type: ignore[attr-defined]
            self.model.project_id,  # type: ignore[attr-defined]
            self.viewer,
        )
