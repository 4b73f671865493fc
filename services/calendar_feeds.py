"""Calendar feeds: each user's secret feed token, and what a feed lists.

The token in a feed URL grants one thing: reading that user's feeds. It is no bearer token
(the API never accepts it), and the database keeps only its SHA-256, as for sessions
(`models.hash_token`). A user can read their URL again at any time, though, so the token is
not random but derived: an HMAC, under a server key, of the feed's random nonce. The feed
table alone (nonces and hashes) rebuilds no URL; rotating draws a new nonce, after which
the old token's hash names no feed.

Reading a feed costs a fixed number of queries whatever the number of projects: the owner
by token hash (one join), their projects (one), the milestones of all of them (one).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError

from infra.secrets import server_secret
from models import CalendarFeed, Milestone, Project, User, hash_token
from models.rows import first_where
from services import access

# The server key the tokens are derived under (infra/secrets.py keeps it).
KEY_NAME = "calendar-feeds"
# A token is the URL-safe base64 of an HMAC-SHA256, unpadded: 43 characters.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def _derive(key: bytes, nonce: str) -> str:
    mac = hmac.new(key, f"calendar-feed:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def _fresh(key: bytes) -> tuple[str, str, str]:
    """(nonce, token, stored hash) of a new token."""
    nonce = secrets.token_urlsafe(32)
    token = _derive(key, nonce)
    return nonce, token, hash_token(token)


async def token_of(user: User) -> str:
    """`user`'s feed token, their feed made on first use."""
    key = await server_secret(KEY_NAME)
    feed = await CalendarFeed.get_or_none(user_id=user.id)
    if feed is None:
        nonce, token, digest = _fresh(key)
        try:
            await CalendarFeed.create(user_id=user.id, nonce=nonce, token_hash=digest)
            return token
        except IntegrityError:  # a concurrent first read made it: both show that one
            feed = await CalendarFeed.get(user_id=user.id)
    return _derive(key, feed.nonce)


async def rotate(user: User) -> str:
    """A new token for `user`'s feed; the previous one names nothing from now on."""
    nonce, token, digest = _fresh(await server_secret(KEY_NAME))
    mine = CalendarFeed.filter(user_id=user.id)
    changes = {"nonce": nonce, "token_hash": digest, "rotated_at": dt.datetime.now(dt.UTC)}
    if not await mine.update(**changes):
        try:
            await CalendarFeed.create(user_id=user.id, nonce=nonce, token_hash=digest)
        except IntegrityError:  # a concurrent first read made one: replace it all the same
            await mine.update(**changes)
    return token


async def owner_of(token: str) -> User | None:
    """The user whose feed `token` opens, or None (malformed, rotated, never issued)."""
    if not _TOKEN.match(token):
        return None  # cannot be one of ours: no query
    return await User.filter(calendar_feed__token_hash=hash_token(token)).first()


@dataclass(frozen=True, slots=True)
class Entry:
    """One milestone as its calendar event shows it."""

    id: int
    title: str
    description: str
    project_title: str
    due_date: dt.date
    # Ticked by the freelancer; `accepted` too once the client (or the clock) accepted it.
    completed: bool
    accepted: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    sequence: int


@dataclass(frozen=True, slots=True)
class Feed:
    """What one feed lists: one event per milestone."""

    entries: list[Entry]
    # Set for a one-project feed.
    project_title: str | None = None


_MILESTONE_COLUMNS = (
    "id",
    "project_id",
    "title",
    "description",
    "due_date",
    "completed_at",
    "accepted_at",
    "created_at",
    "updated_at",
    "sequence",
)


async def _entries(titles: dict[int, str]) -> list[Entry]:
    """The milestones of the projects `titles` names, in one query."""
    if not titles:
        return []
    rows = (
        await Milestone.filter(project_id__in=sorted(titles))
        .order_by("project_id", "due_date", "id")
        .values(*_MILESTONE_COLUMNS)
    )
    return [
        Entry(
            id=row["id"],
            title=row["title"],
            description=row["description"],
            project_title=titles[row["project_id"]],
            due_date=row["due_date"],
            completed=row["completed_at"] is not None,
            accepted=row["accepted_at"] is not None,
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            sequence=row["sequence"],
        )
        for row in rows
    ]


async def feed_of(owner: User, project_id: int | None = None) -> Feed | None:
    """The feed of every project `owner` belongs to, or of one project they may see.

    None when `project_id` names no project `owner` may see: answered like an unknown URL.
    """
    if project_id is None:
        projects = await access.calendar_feed_projects(owner).order_by("id").values("id", "title")
        titles = {row["id"]: row["title"] for row in projects}
        return Feed(entries=await _entries(titles))
    project = await first_where(Project, "id", project_id) if project_id > 0 else None
    if project is None or not access.can_see_project(owner, project):
        return None
    entries = await _entries({project.id: project.title})
    return Feed(entries=entries, project_title=project.title)
