"""Calendar feeds: each user's secret iCalendar URL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.user import User


class CalendarFeed(Model):
    """A user's secret calendar feed, found by the SHA-256 of its URL's token.

    The token itself is derived from `nonce` and a server key (services/calendar_feeds.py)
    and never stored.
    """

    id = fields.IntField(primary_key=True)
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "models.User", related_name="calendar_feed", on_delete=fields.CASCADE
    )
    # Random, replaced on rotation: the old token then names no feed.
    nonce = fields.CharField(max_length=64)
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    rotated_at = fields.DatetimeField(auto_now=True)

    # The key column Tortoise adds beside `user` (annotation only, see models/project.py).
    user_id: int

    class Meta:
        table = "calendar_feed"

    def __str__(self) -> str:
        # Never the nonce or the hash: either in a log helps find or rebuild the URL.
        return f"calendar feed {self.id} of user {self.user_id}"
