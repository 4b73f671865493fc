"""A client's request for changes to a completed milestone, kept across rounds of changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

if TYPE_CHECKING:
    from models.project import Milestone
    from models.user import User


class ChangeRequest(Model):
    """The client sent a completed milestone back, saying why (services/acceptance.py)."""

    id = fields.IntField(primary_key=True)
    milestone: fields.ForeignKeyRelation[Milestone] = fields.ForeignKeyField(
        "models.Milestone", related_name="change_requests", on_delete=fields.CASCADE
    )
    # What the client asked to change, trimmed, as written.
    reason = fields.TextField()
    # Users are never deleted; a request always names its client.
    requested_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    milestone_id: int
    requested_by_id: int

    class Meta:
        table = "change_request"
        # A milestone's requests, newest first (and its deletion's ON DELETE CASCADE).
        indexes = [Index(fields=["milestone_id", "created_at", "id"])]

    def __str__(self) -> str:
        return f"changes requested to milestone {self.milestone_id}"
