"""Types shared by every domain: Node, enums, UserError, PageInfo."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import TYPE_CHECKING, TypeVar

import strawberry
from strawberry.types.enum import has_enum_definition

from models import ChatEventKind as ChatEventKindModel
from models import Role as RoleModel
from services.errors import FieldError

E = TypeVar("E", bound=Enum)


def described_enum(
    cls: type[E], *, name: str, description: str, values: Mapping[E, str]
) -> type[E]:
    """Register the model enum `cls` as the GraphQL enum `name`, with a description per value.

    `strawberry.enum_value` describes values only from inside an enum's own class body, and
    the model enums stay free of strawberry; so the descriptions go onto the definition that
    `strawberry.enum` attaches. Members keep being the model's, so resolvers return those.
    A member added to the model without a description here stops the schema from loading.
    """
    missing = [member.name for member in cls if member not in values]
    if missing:
        raise TypeError(f"GraphQL enum {name} has no description for {', '.join(missing)}")
    registered: object = strawberry.enum(cls, name=name, description=description)
    assert has_enum_definition(registered)
    definition = registered.__strawberry_definition__
    definition.values = [
        dataclasses.replace(value, description=values[cls(value.value)])
        for value in definition.values
    ]
    return cls


if TYPE_CHECKING:  # described_enum returns the class it registers
    Role = RoleModel
    ChatEventKind = ChatEventKindModel
else:
    Role = described_enum(
        RoleModel,
        name="Role",
        description="What a user is on the platform.",
        values={
            RoleModel.CLIENT: (
                "Hires a freelancer for a project, and is e-mailed each change to its milestones."
            ),
            RoleModel.FREELANCER: (
                "Works on projects: adds, edits, completes and deletes their milestones "
                "once an admin unlocks them."
            ),
            RoleModel.ADMIN: (
                "Runs the platform: records initial payments, unlocks milestones, sees every "
                "project. Created only by the operator's command, never by signUp."
            ),
        },
    )
    ChatEventKind = described_enum(
        ChatEventKindModel,
        name="ChatEventKind",
        description="What a chat entry is: a person's message or an event the platform posts.",
        values={
            ChatEventKindModel.MESSAGE: "A message a member of the project or an admin wrote.",
            ChatEventKindModel.MILESTONES_UNLOCKED: "An admin unlocked the project's milestones.",
            ChatEventKindModel.MILESTONE_ADDED: "The freelancer added a milestone.",
            ChatEventKindModel.MILESTONE_EDITED: (
                "The freelancer edited a milestone; `changes` lists each changed field."
            ),
            ChatEventKindModel.MILESTONE_DELETED: "The freelancer deleted a milestone.",
            ChatEventKindModel.MILESTONE_COMPLETED: "The freelancer ticked a milestone off.",
            ChatEventKindModel.MILESTONE_REOPENED: "The freelancer unticked a completed milestone.",
            ChatEventKindModel.MILESTONE_OVERDUE: (
                "An open milestone's due day has ended in the project's time zone."
            ),
            ChatEventKindModel.MILESTONE_ACCEPTED: (
                "The client accepted a completed milestone, or it was accepted automatically "
                "(actor null)."
            ),
            ChatEventKindModel.MILESTONE_CHANGES_REQUESTED: (
                "The client sent a completed milestone back; the body carries the reason."
            ),
        },
    )


@strawberry.enum(description="Stable codes of the problems a user can fix.")
class UserErrorCode(Enum):
    BLANK = strawberry.enum_value("BLANK", description="Required and empty after trimming.")
    TOO_LONG = strawberry.enum_value("TOO_LONG", description="Longer than allowed.")
    TOO_SHORT = strawberry.enum_value("TOO_SHORT", description="Shorter than allowed.")
    INVALID = strawberry.enum_value(
        "INVALID",
        description=(
            "Malformed, e.g. an e-mail address, a line break in a title, "
            "a role that cannot sign up."
        ),
    )
    TAKEN = strawberry.enum_value(
        "TAKEN",
        description="Already in use, e.g. an e-mail address (compared case-insensitively).",
    )
    IN_THE_PAST = strawberry.enum_value(
        "IN_THE_PAST", description="A date before today in the project's time zone."
    )
    INVALID_CREDENTIALS = strawberry.enum_value(
        "INVALID_CREDENTIALS", description="Wrong e-mail or password."
    )
    MILESTONES_LOCKED = strawberry.enum_value(
        "MILESTONES_LOCKED", description="The project's milestones are not unlocked yet."
    )
    INITIAL_PAYMENT_PENDING = strawberry.enum_value(
        "INITIAL_PAYMENT_PENDING",
        description="The project requires an initial payment that is not recorded yet.",
    )
    NOT_COMPLETED = strawberry.enum_value(
        "NOT_COMPLETED",
        description="The milestone is not COMPLETED, so it cannot be accepted or sent back.",
    )
    MILESTONE_ACCEPTED = strawberry.enum_value(
        "MILESTONE_ACCEPTED",
        description=(
            "The client accepted this milestone: it can no longer be edited, unticked or deleted."
        ),
    )


@strawberry.interface(description="An object with a global ID, fetchable with `node`.")
class Node:
    id: strawberry.ID = strawberry.field(description="Opaque global ID.")


@strawberry.type(description="A problem with the input that the user can fix.")
class UserError:
    code: UserErrorCode = strawberry.field(description="Stable code of the problem.")
    field: list[str] | None = strawberry.field(
        description=(
            'Path to the input field, e.g. ["title"]; null when the error is about '
            "the whole request."
        )
    )
    message: str = strawberry.field(description="Human-readable explanation.")


def user_errors(errors: Sequence[FieldError]) -> list[UserError]:
    return [
        UserError(
            code=UserErrorCode(e.code),
            field=list(e.field) if e.field is not None else None,
            message=e.message,
        )
        for e in errors
    ]


@strawberry.type(description="Relay pagination details of a connection page.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether more items follow this page.")
    has_previous_page: bool = strawberry.field(description="Whether more items precede this page.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first item.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last item.")

    @classmethod
    def of(cls, cursors: Sequence[str], has_next: bool, has_previous: bool) -> PageInfo:
        """The page info of a page whose edges have `cursors`, in order."""
        return cls(
            has_next_page=has_next,
            has_previous_page=has_previous,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )
