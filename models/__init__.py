"""Tortoise models of the milestones API."""

from models.chat import ChatEventKind, ChatMessage, FieldChange
from models.idempotency import IdempotencyKey
from models.outbox import EmailStatus, OutboxEmail
from models.project import Milestone, MilestoneReminder, Project, ReminderKind
from models.secret import ServerSecret
from models.user import AccessToken, Role, User, hash_token

__all__ = [
    "AccessToken",
    "ChatEventKind",
    "ChatMessage",
    "EmailStatus",
    "FieldChange",
    "IdempotencyKey",
    "Milestone",
    "MilestoneReminder",
    "OutboxEmail",
    "Project",
    "ReminderKind",
    "Role",
    "ServerSecret",
    "User",
    "hash_token",
]
