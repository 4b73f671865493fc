"""The Project type and the two node types that hang off it: Milestone and ChatMessage.

They reference each other both ways (a project lists its milestones and chat; each of those
names its project; a chat event names its milestone), so they live in one module: types
that cannot be understood apart are not split into modules that import each other.

Each type is built for a viewer; what that viewer may see (e-mail addresses, whether they
may edit) is asked of `services.access`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import strawberry

from infra import clock
from models import ChatMessage, Milestone, Project, User
from models.rows import ChatMessageRow, MilestoneRow
from schema.context import Info
from schema.dataloaders import ChatPageKey
from schema.ids import to_cursor, to_global_id
from schema.pagination import ChatAfter, ChatBefore, ChatFirst, ChatLast, chat_page_args
from schema.types import acceptance as accepting
from schema.types.common import ChatEventKind, Node, PageInfo
from schema.types.user import UserType, load_user
from schema.types.values import FieldChange, MilestoneProgress, ScheduleWarning
from services import acceptance, access
from services.deadlines import due_at
from services.schedule import schedule_warnings


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
    time_zone: str = strawberry.field(
        description="IANA time zone in which the project's due dates end."
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
            and access.can_edit_milestones_now(viewer, project),
            time_zone=project.time_zone,
            created_at=project.created_at,
            model=project,
            viewer=viewer,
        )

    async def _member(self, info: Info, user_id: int) -> UserType:
        user = await info.context.loaders.user_by_id.load(user_id)
        assert user is not None  # members cannot be deleted (ON DELETE RESTRICT)
        return UserType.build(user, self.viewer, project=self.model)

    @strawberry.field(description="The client who hired the freelancer.")
    async def client(self, info: Info) -> UserType:
        return await self._member(info, self.model.client_id)

    @strawberry.field(description="The freelancer who works on the project.")
    async def freelancer(self, info: Info) -> UserType:
        return await self._member(info, self.model.freelancer_id)

    async def _milestones(self, info: Info) -> list[MilestoneRow]:
        return await info.context.loaders.milestones_by_project.load(self.model.id)

    @strawberry.field(description="Always chronological: due date ascending, then creation order.")
    async def milestones(self, info: Info) -> list[MilestoneType]:
        rows, zone, now = await self._milestones(info), self.model.time_zone, clock.now()
        return [MilestoneType.build(m, self.viewer, zone, now) for m in rows]

    @strawberry.field(description="How many milestones there are, and how many are completed.")
    async def milestone_progress(self, info: Info) -> MilestoneProgress:
        rows = await self._milestones(info)
        done = sum(1 for m in rows if m.completed_at is not None)
        return MilestoneProgress(total=len(rows), completed=done)

    @strawberry.field(
        description=(
            "Hints for the freelancer, e.g. when the last milestone does not fall on the "
            "completion date."
        )
    )
    async def schedule_warnings(self, info: Info) -> list[ScheduleWarning]:
        rows = await self._milestones(info)
        return [ScheduleWarning.build(w) for w in schedule_warnings(self.model, rows)]

    @strawberry.field(
        description="The project chat, oldest first within a page; `last` pages back from the newest."
    )
    async def chat(
        self,
        info: Info,
        first: ChatFirst = strawberry.UNSET,
        after: ChatAfter = strawberry.UNSET,
        last: ChatLast = strawberry.UNSET,
        before: ChatBefore = strawberry.UNSET,
    ) -> ChatMessageConnection:
        key = ChatPageKey(self.model.id, **chat_page_args(first, after, last, before))
        rows, has_next, has_previous = await info.context.loaders.chat_page_by_project.load(key)
        return ChatMessageConnection.build(rows, self.viewer, has_next, has_previous)


async def load_project(info: Info, project_id: int, viewer: User | None) -> ProjectType:
    """The project of a milestone or chat message the viewer already may see."""
    project = await info.context.loaders.project_by_id.load(project_id)
    assert project is not None  # rows of a project go with it (ON DELETE CASCADE)
    return ProjectType.build(project, viewer)


@strawberry.type(name="Milestone", description="A dated step of a project.")
class MilestoneType(Node):
    id: strawberry.ID = strawberry.field(description="Opaque global ID.")
    title: str = strawberry.field(description="Title of the milestone.")
    description: str = strawberry.field(description="Short description; may be empty.")
    due_date: dt.date = strawberry.field(description="When the milestone is due.")
    completed: bool = strawberry.field(description="Whether the freelancer ticked it.")
    completed_at: dt.datetime | None = strawberry.field(description="When it was ticked.")
    state: accepting.MilestoneState = strawberry.field(description=accepting.STATE)
    accepted_at: dt.datetime | None = strawberry.field(description=accepting.ACCEPTED_AT)
    auto_accept_at: dt.datetime | None = strawberry.field(description=accepting.AUTO_ACCEPT_AT)
    due_at: dt.datetime = strawberry.field(
        description=(
            "The end of the due day in the project's time zone; `overdue` turns true then."
        )
    )
    overdue: bool = strawberry.field(
        description="Open, and its due day has ended in the project's time zone."
    )
    created_at: dt.datetime = strawberry.field(description="When it was added.")
    updated_at: dt.datetime = strawberry.field(description="When it last changed.")
    model: strawberry.Private[Milestone | MilestoneRow]
    viewer: strawberry.Private[User | None]

    @classmethod
    def build(
        cls,
        milestone: Milestone | MilestoneRow,
        viewer: User | None,
        time_zone: str,
        now: dt.datetime,
    ) -> MilestoneType:
        """`time_zone`: its project's; `now`: the instant the response is about."""
        completed = milestone.completed_at is not None
        ends = due_at(milestone.due_date, time_zone)
        return cls(
            id=strawberry.ID(to_global_id("Milestone", milestone.id)),
            title=milestone.title,
            description=milestone.description,
            due_date=milestone.due_date,
            completed=completed,
            completed_at=milestone.completed_at,
            state=milestone.state,
            accepted_at=milestone.accepted_at,
            auto_accept_at=acceptance.auto_accept_at(milestone, acceptance.auto_accept_days()),
            due_at=ends,
            overdue=not completed and now >= ends,
            created_at=milestone.created_at,
            updated_at=milestone.updated_at,
            model=milestone,
            viewer=viewer,
        )

    @strawberry.field(description="The project the milestone belongs to.")
    async def project(self, info: Info) -> ProjectType:
        return await load_project(info, self.model.project_id, self.viewer)

    @strawberry.field(description="Who ticked it; null while open.")
    async def completed_by(self, info: Info) -> UserType | None:
        return await load_user(info, self.model.completed_by_id, self.model.project_id, self.viewer)

    @strawberry.field(description=accepting.ACCEPTED_BY)
    async def accepted_by(self, info: Info) -> UserType | None:
        return await load_user(info, self.model.accepted_by_id, self.model.project_id, self.viewer)

    @strawberry.field(description=accepting.CHANGE_REQUESTS)
    async def change_requests(self, info: Info) -> list[accepting.ChangeRequestType]:
        return await accepting.change_requests(info, self.model, self.viewer)


@strawberry.type(name="ChatMessage", description="A person's message or a platform event.")
class ChatMessageType(Node):
    id: strawberry.ID = strawberry.field(description="Opaque global ID.")
    kind: ChatEventKind = strawberry.field(description="Message or the kind of event.")
    body: str = strawberry.field(
        description="What the chat shows; for a milestone event it names the milestone by its title, but for MILESTONE_CHANGES_REQUESTED it is the client's reason, as written."
    )
    changes: list[FieldChange] = strawberry.field(
        description="For MILESTONE_EDITED: each field that changed, with its old and new value."
    )
    created_at: dt.datetime = strawberry.field(description="When it was posted.")
    model: strawberry.Private[ChatMessage | ChatMessageRow]
    viewer: strawberry.Private[User | None]

    @classmethod
    def build(cls, message: ChatMessage | ChatMessageRow, viewer: User | None) -> ChatMessageType:
        return cls(
            id=strawberry.ID(to_global_id("ChatMessage", message.id)),
            kind=message.kind,
            body=message.body,
            changes=[FieldChange.build(change) for change in message.field_changes],
            created_at=message.created_at,
            model=message,
            viewer=viewer,
        )

    @strawberry.field(description="The project whose chat this is.")
    async def project(self, info: Info) -> ProjectType:
        return await load_project(info, self.model.project_id, self.viewer)

    @strawberry.field(
        description=(
            "The person who wrote a MESSAGE; null for the events the platform posts "
            "(unlock and milestone events)."
        )
    )
    async def author(self, info: Info) -> UserType | None:
        return await load_user(info, self.model.author_id, self.model.project_id, self.viewer)

    @strawberry.field(
        description=(
            "Who caused a platform event: the admin who unlocked, the member who changed "
            "a milestone (null when the platform did); for MESSAGE the author."
        )
    )
    async def actor(self, info: Info) -> UserType | None:
        return await load_user(info, self.model.actor_id, self.model.project_id, self.viewer)

    @strawberry.field(
        description="The milestone an event is about; null for MESSAGE, and once that milestone is deleted."
    )
    async def milestone(self, info: Info) -> MilestoneType | None:
        milestone_id = self.model.milestone_id
        if milestone_id is None:
            return None
        milestone = await info.context.loaders.milestone_by_id.load(milestone_id)
        if milestone is None:
            return None
        project = await info.context.loaders.project_by_id.load(milestone.project_id)
        assert project is not None  # a milestone goes with its project (ON DELETE CASCADE)
        return MilestoneType.build(milestone, self.viewer, project.time_zone, clock.now())


@strawberry.type(description="An edge of the chat connection.")
class ChatMessageEdge:
    cursor: str = strawberry.field(description="Opaque cursor for `after`/`before`.")
    node: ChatMessageType = strawberry.field(description="The chat message.")


@strawberry.type(description="A page of a project's chat, oldest first.")
class ChatMessageConnection:
    edges: list[ChatMessageEdge] = strawberry.field(description="The messages of this page.")
    page_info: PageInfo = strawberry.field(description="Pagination details.")

    @classmethod
    def build(
        cls,
        rows: Sequence[ChatMessage | ChatMessageRow],
        viewer: User | None,
        has_next: bool,
        has_previous: bool,
    ) -> ChatMessageConnection:
        edges = [
            ChatMessageEdge(cursor=to_cursor("chat", m.id), node=ChatMessageType.build(m, viewer))
            for m in rows
        ]
        return cls(
            edges=edges, page_info=PageInfo.of([e.cursor for e in edges], has_next, has_previous)
        )
