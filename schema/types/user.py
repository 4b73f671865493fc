"""The User type."""

from __future__ import annotations

import strawberry

from models import Project, Role, User
from schema.context import Info
from schema.ids import to_global_id
from schema.types.common import Node
from schema.types.common import Role as RoleEnum


@strawberry.type(
    name="User",
    description=(
        "A user can be seen (e.g. through `node`) by themself, by admins, and by whoever "
        "shares a project with them."
    ),
)
class UserType(Node):
    id: strawberry.ID = strawberry.field(description="Opaque global ID.")
    name: str = strawberry.field(description="Display name.")
    role: RoleEnum = strawberry.field(description="Client, freelancer or admin.")
    email: str | None = strawberry.field(
        description=(
            "Visible to the user, to admins, and to the other party of a shared project; "
            "null otherwise."
        )
    )

    @classmethod
    def build(
        cls,
        user: User,
        viewer: User | None,
        *,
        project: Project | None = None,
        shares_project: bool = False,
    ) -> UserType:
        """`project`: a project the viewer may see, through which this user is reached;
        `shares_project`: the caller knows the two share a project."""
        visible = viewer is not None and (
            shares_project
            or viewer.id == user.id
            or viewer.role == Role.ADMIN
            or (project is not None and project.is_member(user.id) and project.is_member(viewer.id))
        )
        return cls(
            id=strawberry.ID(to_global_id("User", user.id)),
            name=user.name,
            role=user.role,
            email=user.email if visible else None,
        )


async def load_user(
    info: Info, user_id: int | None, project_id: int, viewer: User | None
) -> UserType | None:
    """A user shown on an item of a project (author, actor, who completed), or None."""
    if user_id is None:
        return None
    user = await info.context.loaders.user_by_id.load(user_id)
    if user is None:
        return None
    project = await info.context.loaders.project_by_id.load(project_id)
    return UserType.build(user, viewer, project=project)
