"""Tortoise models of the milestones API."""

from models.chat import ChatEventKind, ChatMessage, FieldChange
from models.outbox import EmailStatus, OutboxEmail, PendingNotice
from models.project import Milestone, Project
from models.secret import ServerSecret
from models.user import AccessToken, MilestoneEmailMode, Role, User, hash_token

__all__ = [
    "AccessToken",
    "ChatEventKind",
    "ChatMessage",
    "EmailStatus",
    "FieldChange",
    "Milestone",
    "MilestoneEmailMode",
    "OutboxEmail",
    "PendingNotice",
    "Project",
    "Role",
    "ServerSecret",
    "User",
    "hash_token",
]
