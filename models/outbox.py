"""The transactional e-mail outbox: rows written with the change, delivered by the worker."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from models.user import MilestoneEmailMode, User


class EmailStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"


class OutboxEmail(Model):
    """A fully rendered e-mail waiting for (or done with) delivery."""

    id = fields.IntField(primary_key=True)
    # Stable across retries, so a receiver can recognise a resend.
    message_id = fields.CharField(max_length=255, unique=True)
    kind = fields.CharField(max_length=64)
    to_address = fields.CharField(max_length=254)
    to_name = fields.CharField(max_length=120, default="")
    subject = fields.CharField(max_length=400)
    text_body = fields.TextField()
    html_body = fields.TextField()
    project_id = fields.IntField(null=True)
    # The one-click unsubscribe URL (RFC 8058) sent as List-Unsubscribe; null: no header.
    list_unsubscribe = fields.CharField(max_length=1000, null=True)
    status = fields.CharEnumField(EmailStatus, max_length=16, default=EmailStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    # A worker's claim: while locked_until is in the future no other worker takes the row.
    locked_until = fields.DatetimeField(null=True)
    locked_by = fields.CharField(max_length=64, null=True)
    last_error = fields.TextField(null=True)
    sent_at = fields.DatetimeField(null=True)
    # The request that queued it (infra/request_context.py), for the worker's log lines.
    request_id = fields.CharField(max_length=128, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "outbox_email"
        indexes = [Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to_address}: {self.status}"


class PendingNotice(Model):
    """One milestone change waiting for its recipient's batch or daily digest.

    Written in the change's transaction, like an e-mail; the worker turns a recipient's
    notices into one e-mail and deletes them in one transaction (services/batches.py).
    `before` and `after` are the milestone's state around the change (null: it did not
    exist), so the e-mail can tell the net change of several.
    """

    id = fields.IntField(primary_key=True)
    recipient: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    # BATCHED or DAILY: how the recipient wanted it told when the change happened.
    mode = fields.CharEnumField(MilestoneEmailMode, max_length=16)
    project_id = fields.IntField()
    # Not a foreign key: the milestone may be deleted before the notice is sent.
    milestone_id = fields.IntField()
    actor_name = fields.CharField(max_length=120)
    before: Any = fields.JSONField(null=True)
    after: Any = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    recipient_id: int

    class Meta:
        table = "pending_notice"
        # A recipient's notices are read, and deleted with the user, by this.
        indexes = [Index(fields=["recipient_id", "mode", "project_id"])]

    def __str__(self) -> str:
        return f"{self.mode} notice of milestone {self.milestone_id} to user {self.recipient_id}"
