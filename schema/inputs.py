"""Mutation inputs, one per mutation, as the contract names them."""

from __future__ import annotations

import datetime as dt

import strawberry

from schema.types.common import Role
from schema.types.notification_settings import MilestoneEmailMode


@strawberry.input(description="A new client or freelancer account.")
class SignUpInput:
    email: str = strawberry.field(description="E-mail address; compared case-insensitively.")
    password: str = strawberry.field(description="At least 8 characters.")
    name: str = strawberry.field(description="Display name, 1 to 120 characters.")
    role: Role = strawberry.field(
        description="CLIENT or FREELANCER; admins are created by the operator's command."
    )


@strawberry.input(description="Credentials to sign in with.")
class LogInInput:
    email: str = strawberry.field(description="E-mail address.")
    password: str = strawberry.field(description="Password.")


@strawberry.input(description="A new project between a client and a freelancer.")
class CreateProjectInput:
    title: str = strawberry.field(description="1 to 200 characters after trimming.")
    freelancer_id: strawberry.ID = strawberry.field(description="A FREELANCER user.")
    completion_date: dt.date = strawberry.field(
        description="Not before today in the project's time zone."
    )
    description: str | None = strawberry.field(default="", description="Up to 5000 characters.")
    client_id: strawberry.ID | None = strawberry.field(
        default=None, description="Admins only: the CLIENT user; for a client it is the viewer."
    )
    initial_payment_required: bool | None = strawberry.field(
        default=True, description="Whether milestones wait for the client's initial payment."
    )
    time_zone: str | None = strawberry.field(
        default=None,
        description="IANA time zone of the project's dates, e.g. Europe/Berlin. Default UTC.",
    )


@strawberry.input(description="Names a project.")
class ProjectRefInput:
    project_id: strawberry.ID = strawberry.field(description="The project's ID.")


@strawberry.input(description="A project's new time zone.")
class SetProjectTimeZoneInput:
    project_id: strawberry.ID = strawberry.field(description="The project's ID.")
    time_zone: str = strawberry.field(
        description='An IANA name; anything else is a user error INVALID on ["timeZone"].'
    )


@strawberry.input(description="A new milestone.")
class AddMilestoneInput:
    project_id: strawberry.ID = strawberry.field(description="The project's ID.")
    title: str = strawberry.field(
        description="1 to 120 characters after trimming; no line breaks or control characters."
    )
    due_date: dt.date = strawberry.field(description="Not before today in the project's time zone.")
    description: str | None = strawberry.field(default="", description="Up to 2000 characters.")


@strawberry.input(
    description=(
        "Omitted fields keep their value. Same rules as AddMilestoneInput; a milestone already "
        "past due may keep its date, but a new dueDate must not be before today."
    )
)
class EditMilestoneInput:
    id: strawberry.ID = strawberry.field(description="The milestone's ID.")
    title: str | None = strawberry.field(default=None, description="New title.")
    description: str | None = strawberry.field(default=None, description="New description.")
    due_date: dt.date | None = strawberry.field(default=None, description="New due date.")


@strawberry.input(description="Ticks or unticks a milestone.")
class SetMilestoneCompletedInput:
    id: strawberry.ID = strawberry.field(description="The milestone's ID.")
    completed: bool = strawberry.field(description="true ticks the checkbox, false unticks it.")


@strawberry.input(description="Names the milestone to delete.")
class DeleteMilestoneInput:
    id: strawberry.ID = strawberry.field(description="The milestone's ID.")


@strawberry.input(description="Names the completed milestone the client accepts.")
class AcceptMilestoneInput:
    milestone_id: strawberry.ID = strawberry.field(description="The milestone's ID.")


@strawberry.input(description="Sends a completed milestone back to the freelancer, saying why.")
class RequestMilestoneChangesInput:
    milestone_id: strawberry.ID = strawberry.field(description="The milestone's ID.")
    reason: str = strawberry.field(description="Required; 1-2000 characters after trimming.")


@strawberry.input(description="A chat message.")
class SendChatMessageInput:
    project_id: strawberry.ID = strawberry.field(description="The project's ID.")
    body: str = strawberry.field(description="1 to 4000 characters after trimming.")


@strawberry.input(description="New notification settings of the viewer.")
class UpdateNotificationSettingsInput:
    milestone_changes: MilestoneEmailMode | None = strawberry.field(
        default=None, description="How milestone changes are e-mailed; left out: unchanged."
    )
    reminders: bool | None = strawberry.field(
        default=None, description="Whether reminder e-mails are sent; left out: unchanged."
    )
    time_zone: str | None = strawberry.field(
        default=None,
        description="An IANA time zone such as Europe/Paris (else INVALID); left out: unchanged.",
    )
