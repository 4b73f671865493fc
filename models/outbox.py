"""The transactional e-mail outbox: rows written with the change, delivered by the worker."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


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
