"""Mutations sent with an Idempotency-Key: the one running now, or the response it got."""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from models.user import User


class IdempotencyKey(Model):
    """A user's Idempotency-Key: held while its request runs, then its response, for replays."""

    id = fields.IntField(primary_key=True)
    # Keys are scoped to the user: another user's same key is another row.
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="idempotency_keys", on_delete=fields.CASCADE
    )
    # SHA-256 of the key: the client's text is neither stored nor bounded by a column.
    key_hash = fields.CharField(max_length=64)
    # An HMAC of the request (document, operation name, variables), never the request
    # itself: its variables may hold anything, passwords included.
    fingerprint = fields.CharField(max_length=64)
    # Which attempt holds the row while it runs: one that outlived its hold cannot
    # overwrite the row another attempt took over since.
    holder = fields.CharField(max_length=32)
    # Null while the request runs; then the response, exactly as it was sent.
    status_code = fields.IntField(null=True)
    content_type = fields.CharField(max_length=128, default="")
    body = fields.BinaryField(null=True)
    # A running row is abandoned after this (its process died); a kept response is
    # replayed until then, and deleted after.
    expires_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)

    user_id: int  # the key column Tortoise adds beside `user`, for type checkers

    class Meta:
        table = "idempotency_key"
        unique_together = (("user", "key_hash"),)
        # The purge deletes by expiry.
        indexes = [Index(fields=["expires_at"])]

    def __str__(self) -> str:
        # Neither the key's hash nor the body: the body may carry personal data.
        return f"idempotency key {self.id} of user {self.user_id}"
