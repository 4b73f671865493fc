"""Query resolvers: authorize, read, build the types."""

from __future__ import annotations

import strawberry

from schema.context import Info
from schema.ids import from_global_id, to_cursor
from schema.pagination import cursor, page_size
from schema.types.chat import ChatMessageType
from schema.types.common import Node, PageInfo
from schema.types.milestone import MilestoneType
from schema.types.project import ProjectConnection, ProjectEdge, ProjectType
from schema.types.user import UserType
from services import access, queries
from services.errors import NotFound
from services.validation import today_utc


def me(info: Info) -> UserType | None:
    viewer = info.context.viewer
    return UserType.build(viewer, viewer) if viewer else None


async def project(info: Info, id: strawberry.ID) -> ProjectType | None:
    viewer = info.context.require_viewer()
    return ProjectType.build(await access.visible_project(viewer, id), viewer)


async def projects(
    info: Info, first: int | None = 20, after: str | None = None
) -> ProjectConnection:
    viewer = info.context.require_viewer()
    size = page_size("first", first) or 20
    rows, has_next, has_previous, total = await queries.projects_page(
        viewer, size, cursor("after", after, "project")
    )
    edges = [
        ProjectEdge(cursor=to_cursor("project", p.id), node=ProjectType.build(p, viewer))
        for p in rows
    ]
    return ProjectConnection(
        edges=edges,
        page_info=PageInfo.of([e.cursor for e in edges], has_next, has_previous),
        total_count=total,
    )


async def node(info: Info, id: strawberry.ID) -> Node | None:
    viewer = info.context.require_viewer()
    parsed = from_global_id(id)
    type_name = parsed[0] if parsed else ""
    if type_name == "Project":
        return ProjectType.build(await access.visible_project(viewer, id), viewer)
    if type_name == "Milestone":
        milestone = await access.visible_milestone(viewer, id)
        return MilestoneType.build(milestone, viewer, today_utc())
    if type_name == "ChatMessage":
        return ChatMessageType.build(await access.visible_chat_message(viewer, id), viewer)
    if type_name == "User":
        # visible_user only returns the viewer, or a user sharing a project, or to an admin.
        return UserType.build(await access.visible_user(viewer, id), viewer, shares_project=True)
    raise NotFound()
