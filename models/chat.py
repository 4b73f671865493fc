"""The project chat: people's messages and the events the platform posts."""

from __future__ import annotations

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


class ChatMessage(Model):
    """One line of a project chat. Ids grow in commit order within a project."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="chat_messages", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(ChatEventKind, max_length=32)
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
    # [{"field": "title", "from": "old", "to": "new"}, ...] for MILESTONE_EDITED.
    changes: Any = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "chat_message"
        indexes = [Index(fields=["project_id", "id"])]
