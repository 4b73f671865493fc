"""Accounts and their bearer tokens."""

from __future__ import annotations

import hashlib
from enum import StrEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class Role(StrEnum):
    CLIENT = "CLIENT"
    FREELANCER = "FREELANCER"
    ADMIN = "ADMIN"


class MilestoneEmailMode(StrEnum):
    """How a user hears of milestone changes by e-mail (services/mail_preferences.py)."""

    IMMEDIATE = "IMMEDIATE"
    BATCHED = "BATCHED"
    DAILY = "DAILY"
    OFF = "OFF"


class User(Model):
    """A person on the platform. The e-mail address is stored lower-cased and unique."""

    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    name = fields.CharField(max_length=120)
    role = fields.CharEnumField(Role, max_length=16)
    password_hash = fields.CharField(max_length=255)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Notification settings: kept on the user row, which every change already loads for its
    # recipient, so deciding how to tell someone costs no query.
    milestone_emails = fields.CharEnumField(
        MilestoneEmailMode, max_length=16, default=MilestoneEmailMode.IMMEDIATE
    )
    reminder_emails = fields.BooleanField(default=True)
    # Raised each time that kind of e-mail is turned back on: unsubscribe links carry the
    # version they were made under, so a link from before a re-subscription stops working
    # (services/mail_preferences.py).
    milestone_emails_version = fields.IntField(default=0)
    reminder_emails_version = fields.IntField(default=0)
    # An IANA zone name (checked against zoneinfo when set); daily digests follow it.
    time_zone = fields.CharField(max_length=64, default="UTC")

    class Meta:
        table = "users"

    def __str__(self) -> str:
        return f"{self.role} {self.email}"


def hash_token(token: str) -> str:
    """What is stored of a bearer token: its SHA-256, so a leaked table grants no session."""
    return hashlib.sha256(token.encode()).hexdigest()


class AccessToken(Model):
    """A signed-in session. Only a SHA-256 of the bearer token is kept, and logging out deletes it."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="tokens", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # When the token last authenticated a request (coarsely: see services.auth); an idle
    # token expires, and every token expires some time after `created_at` whatever its use.
    last_used_at = fields.DatetimeField(null=True)

    # The key column Tortoise adds beside `user`, declared for type checkers only: a bare
    # annotation creates no field.
    user_id: int

    class Meta:
        table = "access_token"
        # logOutEverywhere lists a user's sessions (services/sessions.py `end_all_of`).
        indexes = [Index(fields=["user_id"])]

    def __str__(self) -> str:
        # Names the session's owner, never the token hash: a hash in a log is a lookup key.
        return f"session {self.id} of user {self.user_id}"
