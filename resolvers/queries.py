"""Query resolvers: authorize, read, build the types."""

from __future__ import annotations

from typing import Annotated

import strawberry

from infra import clock
from models import ChatMessage, Milestone, Project
from schema.authorize import authorized_find, authorized_user
from schema.context import Info
from schema.ids import from_global_id, to_cursor
from schema.pagination import DEFAULT_PAGE, cursor, page_size
from schema.types.common import Node, PageInfo
from schema.types.project import ChatMessageType, MilestoneType, ProjectType
from schema.types.project_connection import ProjectConnection, ProjectEdge
from schema.types.user import UserType
from services import projects as project_service
from services.errors import NotFound


def me(info: Info) -> UserType | None:
    viewer = info.context.viewer
    return UserType.build(viewer, viewer) if viewer else None


async def project(
    info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The project's ID.")]
) -> ProjectType | None:
    found = await authorized_find(info, Project, id)
    return ProjectType.build(found, info.context.viewer)


async def projects(
    info: Info,
    first: Annotated[
        int | None, strawberry.argument(description="How many to return, 1 to 100.")
    ] = DEFAULT_PAGE,
    after: Annotated[
        str | None, strawberry.argument(description="Return the projects after this cursor.")
    ] = None,
) -> ProjectConnection:
    viewer = info.context.require_viewer()
    size = page_size("first", first) or DEFAULT_PAGE
    rows, has_next, has_previous, total = await project_service.projects_page(
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


async def node(
    info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="A global ID.")]
) -> Node | None:
    try:
        return await _node(info, id)
    except NotFound:
        # One answer for every ID the viewer cannot have: a forged one, a missing object,
        # someone else's project. Even the type named would say the ID is genuine.
        raise NotFound() from None


async def _node(info: Info, id: str) -> Node:
    viewer = info.context.require_viewer()
    parsed = from_global_id(id)
    type_name = parsed[0] if parsed else ""
    if type_name == "Project":
        return ProjectType.build(await authorized_find(info, Project, id), viewer)
    if type_name == "Milestone":
        milestone = await authorized_find(info, Milestone, id)
        zone = milestone.project.time_zone  # loaded with it by authorized_find
        return MilestoneType.build(milestone, viewer, zone, clock.now())
    if type_name == "ChatMessage":
        return ChatMessageType.build(await authorized_find(info, ChatMessage, id), viewer)
    if type_name == "User":
        user, shared = await authorized_user(info, id)
        return UserType.build(user, viewer, project=shared)
    raise NotFound()
