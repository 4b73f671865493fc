"""The ChatMessage type and its connection."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import strawberry

from models import ChatMessage, User
from schema.context import Info
from schema.ids import to_cursor, to_global_id
from schema.types.common import ChatEventKind, Node, PageInfo
from schema.types.milestone import MilestoneType
from schema.types.user import UserType, load_user
from services.validation import today_utc

if TYPE_CHECKING:
    from schema.types.project import ProjectType


@strawberry.type(description="One field of a milestone edit, with its old and new value.")
class FieldChange:
    field: str = strawberry.field(description="title, description or dueDate")
    from_: str | None = strawberry.field(
        name="from", description="The old value; dates as ISO 8601 (2027-01-31)."
    )
    to: str | None = strawberry.field(description="The new value; dates as ISO 8601.")


@strawberry.type(name="ChatMessage", description="A person's message or a platform event.")
class ChatMessageType(Node):
    id: strawberry.ID = strawberry.field(description="Opaque global ID.")
    kind: ChatEventKind = strawberry.field(description="Message or the kind of event.")
    body: str = strawberry.field(
        description="What the chat shows; for a milestone event it names the milestone by its title."
    )
    changes: list[FieldChange] = strawberry.field(
        description="For MILESTONE_EDITED: each field that changed, with its old and new value."
    )
    created_at: dt.datetime = strawberry.field(description="When it was posted.")
    model: strawberry.Private[ChatMessage]
    viewer: strawberry.Private[User | None]

    @classmethod
    def build(cls, message: ChatMessage, viewer: User | None) -> ChatMessageType:
        return cls(
            id=strawberry.ID(to_global_id("ChatMessage", message.id)),
            kind=message.kind,
            body=message.body,
            changes=[
                FieldChange(field=c.field, from_=c.old, to=c.new) for c in message.field_changes
            ],
            created_at=message.created_at,
            model=message,
            viewer=viewer,
        )

    async def _user(self, info: Info, user_id: int | None) -> UserType | None:
        return await load_user(info, user_id, self.model.project_id, self.viewer)  # type: ignore[attr-defined]

    @strawberry.field(description="The project whose chat this is.")
    async def project(
        self, info: Info
    ) -> Annotated[ProjectType, strawberry.lazy("schema.types.project")]:
        from schema.types.project import load_project

        return await load_project(info, self.model.project_id, self.viewer)  # type: ignore[attr-defined]

    @strawberry.field(
        description=(
            "The person who wrote a MESSAGE; null for the events the platform posts "
            "(unlock and milestone events)."
        )
    )
    async def author(self, info: Info) -> UserType | None:
        return await self._user(info, self.model.author_id)  # type: ignore[attr-defined]

    @strawberry.field(
        description=(
            "Who caused a platform event: the admin who unlocked, the freelancer who changed "
            "a milestone; for MESSAGE the author."
        )
    )
    async def actor(self, info: Info) -> UserType | None:
        return await self._user(info, self.model.actor_id)  # type: ignore[attr-defined]

    @strawberry.field(
        description="The milestone an event is about; null for MESSAGE, and once that milestone is deleted."
    )
    async def milestone(self, info: Info) -> MilestoneType | None:
        milestone_id = self.model.milestone_id  # type: ignore[attr-defined]
        if milestone_id is None:
            return None
        milestone = await info.context.loaders.milestone_by_id.load(milestone_id)
        return MilestoneType.build(milestone, self.viewer, today_utc()) if milestone else None


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
        rows: Sequence[ChatMessage],
        viewer: User | None,
        has_next: bool,
        has_previous: bool,
    ) -> ChatMessageConnection:
        edges = [
            ChatMessageEdge(cursor=to_cursor("chat", m.id), node=ChatMessageType.build(m, viewer))
            for m in rows
        ]
        return cls(
            edges=edges,
            page_info=PageInfo.of([e.cursor for e in edges], has_next, has_previous),
        )
