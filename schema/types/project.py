"""The Project type and its milestone summaries."""

from __future__ import annotations

import datetime as dt

import strawberry

from models import Project, User
from schema.context import Info
from schema.ids import to_global_id
from schema.pagination import chat_page_args
from schema.types.chat import ChatMessageConnection
from schema.types.common import Node, PageInfo
from schema.types.milestone import MilestoneType
from schema.types.user import UserType
from services import chat
from services.access import can_edit_milestones
from services.schedule import schedule_warnings
from services.validation import today_utc


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


@strawberry.type(name="Project", description="A client's project with one freelancer.")
class ProjectType(Node):
    id: strawberry.ID = strawberry.field(description="Opaque global ID.")
    title: str = strawberry.field(description="Title of the project.")
    description: str = strawberry.field(description="Description; may be empty.")
    completion_date: dt.date = strawberry.field(description="The agreed project completion date.")
    initial_payment_required: bool = strawberry.field(
        description="Whether the client pays an initial payment before milestones open."
    )
    initial_payment_completed_at: dt.datetime | None = strawberry.field(
        description="When the initial payment was recorded."
    )
    milestones_unlocked: bool = strawberry.field(
        description="Whether an admin opened the milestones."
    )
    milestones_unlocked_at: dt.datetime | None = strawberry.field(
        description="When the milestones were unlocked."
    )
    viewer_can_edit_milestones: bool = strawberry.field(
        description="Whether the viewer may add, edit, delete and complete milestones right now."
    )
    created_at: dt.datetime = strawberry.field(description="When the project was created.")
    model: strawberry.Private[Project]
    viewer: strawberry.Private[User | None]

    @classmethod
    def build(cls, project: Project, viewer: User | None) -> ProjectType:
        return cls(
            id=strawberry.ID(to_global_id("Project", project.id)),
            title=project.title,
            description=project.description,
            completion_date=project.completion_date,
            initial_payment_required=project.initial_payment_required,
            initial_payment_completed_at=project.initial_payment_completed_at,
            milestones_unlocked=project.milestones_unlocked,
            milestones_unlocked_at=project.milestones_unlocked_at,
            viewer_can_edit_milestones=viewer is not None
            and project.milestones_unlocked
            and can_edit_milestones(viewer, project),
            created_at=project.created_at,
            model=project,
            viewer=viewer,
        )

    async def _user(self, info: Info, user_id: int) -> UserType:
        user = await info.context.loaders.user_by_id.load(user_id)
        assert user is not None
        return UserType.build(user, self.viewer, project=self.model)

    @strawberry.field(description="The client who hired the freelancer.")
    async def client(self, info: Info) -> UserType:
        return await self._user(info, self.model.client_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The freelancer who works on the project.")
    async def freelancer(self, info: Info) -> UserType:
        return await self._user(info, self.model.freelancer_id)  # type: ignore[attr-defined]

    @strawberry.field(description="Always chronological: due date ascending, then creation order.")
    async def milestones(self, info: Info) -> list[MilestoneType]:
        rows = await info.context.loaders.milestones_by_project.load(self.model.id)
        today = today_utc()
        return [MilestoneType.build(m, self.viewer, today) for m in rows]

    @strawberry.field(description="How many milestones there are, and how many are completed.")
    async def milestone_progress(self, info: Info) -> MilestoneProgress:
        rows = await info.context.loaders.milestones_by_project.load(self.model.id)
        done = sum(1 for m in rows if m.completed_at is not None)
        return MilestoneProgress(total=len(rows), completed=done)

    @strawberry.field(
        description=(
            "Hints for the freelancer, e.g. when the last milestone does not fall on the "
            "completion date."
        )
    )
    async def schedule_warnings(self, info: Info) -> list[ScheduleWarning]:
        rows = await info.context.loaders.milestones_by_project.load(self.model.id)
        return [
            ScheduleWarning(code=w.code, message=w.message)
            for w in schedule_warnings(self.model, rows)
        ]

    @strawberry.field(
        description="The project chat, oldest first within a page; `last` pages back from the newest."
    )
    async def chat(
        self,
        info: Info,
        first: int | None = strawberry.UNSET,
        after: str | None = strawberry.UNSET,
        last: int | None = strawberry.UNSET,
        before: str | None = strawberry.UNSET,
    ) -> ChatMessageConnection:
        args = chat_page_args(first, after, last, before)
        rows, has_next, has_previous = await chat.page(self.model.id, **args)
        return ChatMessageConnection.build(rows, self.viewer, has_next, has_previous)


async def load_project(info: Info, project_id: int, viewer: User | None) -> ProjectType:
    """The project of a milestone or chat message the viewer already may see."""
    project = await info.context.loaders.project_by_id.load(project_id)
    assert project is not None  # rows of a project go with it (ON DELETE CASCADE)
    return ProjectType.build(project, viewer)


@strawberry.type(description="An edge of the projects connection.")
class ProjectEdge:
    cursor: str = strawberry.field(description="Opaque cursor for `after`.")
    node: ProjectType = strawberry.field(description="The project.")


@strawberry.type(description="A page of projects, newest first.")
class ProjectConnection:
    edges: list[ProjectEdge] = strawberry.field(description="The projects of this page.")
    page_info: PageInfo = strawberry.field(description="Pagination details.")
    total_count: int = strawberry.field(description="How many projects there are in all.")
