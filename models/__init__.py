"""Tortoise models of the milestones API."""

from models.calendar import CalendarFeed
from models.change_request import ChangeRequest
from models.chat import ChatEventKind, ChatMessage, FieldChange
from models.idempotency_key import IdempotencyKey
from models.outbox import EmailStatus, OutboxEmail, PendingNotice
from models.project import (
    Milestone,
    MilestoneReminder,
    MilestoneState,
    Project,
    ReminderKind,
)
from models.secret import ServerSecret
from models.user import AccessToken, MilestoneEmailMode, Role, User, hash_token

__all__ = [
    "AccessToken",
    "CalendarFeed",
    "ChangeRequest",
    "ChatEventKind",
    "ChatMessage",
    "EmailStatus",
    "FieldChange",
    "IdempotencyKey",
    "Milestone",
    "MilestoneEmailMode",
    "MilestoneReminder",
    "MilestoneState",
    "OutboxEmail",
    "PendingNotice",
    "Project",
    "ReminderKind",
    "Role",
    "ServerSecret",
    "User",
    "hash_token",
]
