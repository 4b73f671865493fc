"""Mutation payloads: `errors` for what the user can fix, the changed objects otherwise."""

from __future__ import annotations

import strawberry

from infra import clock
from models import Milestone, Project, User
from schema.types.common import UserError
from schema.types.notification_settings import NotificationSettingsType
from schema.types.project import ChatMessageType, MilestoneType, ProjectType
from schema.types.user import UserType

ERRORS = "Problems with the input; empty on success."


@strawberry.type(description="The result of signing up or logging in.")
class AuthPayload:
    errors: list[UserError] = strawberry.field(description=ERRORS)
    token: str | None = strawberry.field(
        default=None,
        description=(
            "Sent as `Authorization: Bearer <token>`, and in the WebSocket connection_init "
            'payload as {"Authorization": "Bearer <token>"}.'
        ),
    )
    user: UserType | None = strawberry.field(default=None, description="The signed-in user.")


@strawberry.type(description="The result of a project mutation.")
class ProjectPayload:
    errors: list[UserError] = strawberry.field(description=ERRORS)
    project: ProjectType | None = strawberry.field(default=None, description="The project.")


@strawberry.type(description="The result of a milestone mutation.")
class MilestonePayload:
    errors: list[UserError] = strawberry.field(description=ERRORS)
    milestone: MilestoneType | None = strawberry.field(default=None, description="The milestone.")
    project: ProjectType | None = strawberry.field(
        default=None, description="Its project, for refreshing the list and the warnings."
    )

    @classmethod
    def succeeded(
        cls, project: Project, milestone: Milestone, viewer: User | None
    ) -> MilestonePayload:
        return cls(
            errors=[],
            milestone=MilestoneType.build(milestone, viewer, project.time_zone, clock.now()),
            project=ProjectType.build(project, viewer),
        )


@strawberry.type(description="The result of deleting a milestone.")
class DeleteMilestonePayload:
    errors: list[UserError] = strawberry.field(description=ERRORS)
    deleted_milestone_id: strawberry.ID | None = strawberry.field(
        default=None, description="The ID the milestone had."
    )
    project: ProjectType | None = strawberry.field(default=None, description="Its project.")


@strawberry.type(description="The result of sending a chat message.")
class ChatMessagePayload:
    errors: list[UserError] = strawberry.field(description=ERRORS)
    message: ChatMessageType | None = strawberry.field(default=None, description="The message.")


@strawberry.type(description="The result of changing notification settings.")
class NotificationSettingsPayload:
    errors: list[UserError] = strawberry.field(description=ERRORS)
    settings: NotificationSettingsType | None = strawberry.field(
        default=None, description="The viewer's settings as they are now."
    )
