"""The viewer's list of projects, a Relay connection."""

from __future__ import annotations

import strawberry

from schema.types.common import PageInfo
from schema.types.project import ProjectType


@strawberry.type(description="An edge of the projects connection.")
class ProjectEdge:
    cursor: str = strawberry.field(description="Opaque cursor for `after`.")
    node: ProjectType = strawberry.field(description="The project.")


@strawberry.type(description="A page of projects, newest first.")
class ProjectConnection:
    edges: list[ProjectEdge] = strawberry.field(description="The projects of this page.")
    page_info: PageInfo = strawberry.field(description="Pagination details.")
    total_count: int = strawberry.field(description="How many projects there are in all.")
