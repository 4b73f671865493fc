"""The project chat: people's messages and the events the platform posts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

if TYPE_CHECKING:
    from models.project import Milestone, Project
    from models.user import User


class ChatEventKind(StrEnum):
    MESSAGE = "MESSAGE"
    MILESTONES_UNLOCKED = "MILESTONES_UNLOCKED"
    MILESTONE_ADDED = "MILESTONE_ADDED"
    MILESTONE_EDITED = "MILESTONE_EDITED"
    MILESTONE_DELETED = "MILESTONE_DELETED"
    MILESTONE_COMPLETED = "MILESTONE_COMPLETED"
    MILESTONE_REOPENED = "MILESTONE_REOPENED"
    MILESTONE_OVERDUE = "MILESTONE_OVERDUE"
    MILESTONE_ACCEPTED = "MILESTONE_ACCEPTED"
    MILESTONE_CHANGES_REQUESTED = "MILESTONE_CHANGES_REQUESTED"


# The description Tortoise derived for the kind column from the kinds first migrated.
_KIND_DESCRIPTION = "\n".join(
    f"{kind}: {kind}"
    for kind in (
        "MESSAGE",
        "MILESTONES_UNLOCKED",
        "MILESTONE_ADDED",
        "MILESTONE_EDITED",
        "MILESTONE_DELETED",
        "MILESTONE_COMPLETED",
        "MILESTONE_REOPENED",
    )
)

# The edited fields, by their names in the API, with the words people read.
FIELD_LABELS = {"title": "Title", "description": "Description", "dueDate": "Due date"}


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of a milestone edit: its API name, and its old and new value as text.

    The one shape of a change: stored in `ChatMessage.changes`, served as the GraphQL
    `FieldChange`, listed in the edit e-mail.
    """

    field: str
    old: str
    new: str

    @property
    def label(self) -> str:
        return FIELD_LABELS[self.field]

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "from": self.old, "to": self.new}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FieldChange:
        return cls(str(data["field"]), str(data.get("from") or ""), str(data.get("to") or ""))

    @classmethod
    def list_from_json(cls, changes: list[dict[str, Any]] | None) -> list[FieldChange]:
        """The changes stored in a chat message's `changes` column."""
        return [cls.from_json(change) for change in changes or ()]


class ChatMessage(Model):
    """One line of a project chat. Ids grow in commit order within a project."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="chat_messages", on_delete=fields.CASCADE
    )
    # The column's description stays as first migrated: a new kind would change the one
    # Tortoise derives, and altering it rebuilds the table on SQLite for no gain.
    kind = fields.CharEnumField(ChatEventKind, max_length=32, description=_KIND_DESCRIPTION)
    body = fields.TextField()
    author: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    milestone: fields.ForeignKeyNullableRelation[Milestone] = fields.ForeignKeyField(
        "models.Milestone", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    # FieldChange.to_json() of each edited field, for MILESTONE_EDITED.
    changes: Any = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)

    # The key columns Tortoise adds beside each foreign key, declared for type checkers
    # only: a bare annotation creates no field.
    project_id: int
    author_id: int | None
    actor_id: int | None
    milestone_id: int | None

    class Meta:
        table = "chat_message"
        indexes = [
            Index(fields=["project_id", "id"]),
            # Deleting a milestone sets milestone_id to NULL in its chat events (ON DELETE SET
            # NULL): without this the database reads every chat message of every project.
            Index(fields=["milestone_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.body}"

    @property
    def field_changes(self) -> list[FieldChange]:
        return FieldChange.list_from_json(self.changes)
