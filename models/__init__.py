"""Tortoise models of the milestones API."""

from models.calendar import CalendarFeed
from models.chat import ChatEventKind, ChatMessage, FieldChange
from models.outbox import EmailStatus, OutboxEmail
from models.project import Milestone, Project
from models.secret import ServerSecret
from models.user import AccessToken, Role, User, hash_token

__all__ = [
    "AccessToken",
    "CalendarFeed",
    "ChatEventKind",
    "ChatMessage",
    "EmailStatus",
    "FieldChange",
    "Milestone",
    "OutboxEmail",
    "Project",
    "Role",
    "ServerSecret",
    "User",
    "hash_token",
]
