"""The User type."""

from __future__ import annotations

import strawberry

from models import Project, User
from schema.context import Info
from schema.ids import pk_of, to_global_id
from schema.types.calendar import CalendarFeedType, own_feed
from schema.types.common import Node
from schema.types.common import Role as RoleEnum
from schema.types.notification_settings import NotificationSettingsType
from services import access


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
    notification_settings: NotificationSettingsType | None = strawberry.field(
        default=None, description="The viewer's own settings (null for anyone else)."
    )

    @strawberry.field(
        description="The viewer's own feed (null for anyone else); created on first read."
    )
    async def calendar_feed(self, info: Info) -> CalendarFeedType | None:
        return await own_feed(info, pk_of(self.id, "User") or 0)

    @classmethod
    def build(cls, user: User, viewer: User | None, *, project: Project | None = None) -> UserType:
        """`project`: a project the viewer may see, through which this user is shown."""
        visible = viewer is not None and access.can_see_email(viewer, user, project)
        return cls(
            id=strawberry.ID(to_global_id("User", user.id)),
            name=user.name,
            role=user.role,
            email=user.email if visible else None,
            notification_settings=(
                NotificationSettingsType.build(user)
                if viewer is not None and viewer.id == user.id
                else None
            ),
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
