"""The project chat: people's messages, and reading pages of it.

Pages of many projects' chats read together cost one query (two with a cursor), however
many projects there are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from infra.feeds import Delivery
from infra.unit_of_work import atomic
from models import ChatMessage, Milestone, Project, User
from models.rows import CHAT_MESSAGE_ROWS, ChatMessageRow
from services import access, notifications
from services.errors import ApiError, NotFound, Unauthenticated
from services.validation import Checker

BODY_MAX = 4000


async def send_message(author: User, project: Project, body: str) -> ChatMessage:
    """Post `author`'s message; callers have checked `services.access.can_post_to_chat`."""
    check = Checker()
    body = check.required_text("body", body, label="Message", max_length=BODY_MAX)
    check.done()
    async with atomic() as work:
        project = await work.lock_project(project.id)
        message = await notifications.chat_message(work, project, author, body)
    return message


class ChatPage(NamedTuple):
    """Messages oldest first, and whether there are more after and before them."""

    rows: list[ChatMessageRow]
    has_next: bool
    has_previous: bool


async def page(
    project_id: int,
    *,
    first: int | None,
    after: int | None,
    last: int | None,
    before: int | None,
) -> ChatPage:
    """A page of one project's chat; see `pages`."""
    found = await pages([project_id], first=first, after=after, last=last, before=before)
    return found[project_id]


async def pages(
    project_ids: Sequence[int],
    *,
    first: int | None,
    after: int | None,
    last: int | None,
    before: int | None,
) -> dict[int, ChatPage]:
    """The same page of the chat of each project: one query, and one more with a cursor.

    `first`/`after` page forwards from the oldest; `last`/`before` page back from the
    newest. Exactly one of `first` and `last` is given.
    """
    forward = first is not None
    size = first if first is not None else last
    assert size is not None
    ids = sorted(set(project_ids))
    if not ids:
        return {}
    rows = await CHAT_MESSAGE_ROWS.fetch(_page_sql(ids, forward, size + 1, after, before))
    grouped: dict[int, list[ChatMessageRow]] = {pid: [] for pid in ids}
    for message in sorted(rows, key=lambda m: m.id):
        grouped[message.project_id].append(message)
    # Whether the cursor leaves messages behind it: only asked when there is a cursor.
    edge = after if forward else before
    behind = await _projects_with_messages_beyond(ids, edge, forward) if edge is not None else set()
    found = {}
    for pid, messages in grouped.items():
        more = len(messages) > size
        if forward:
            found[pid] = ChatPage(messages[:size], more, pid in behind)
        else:
            found[pid] = ChatPage(messages[-size:] if more else messages, pid in behind, more)
    return found


async def is_message_of(project_id: int, message_id: int) -> bool:
    """Whether `message_id` is a message of that project's chat."""
    return await ChatMessage.filter(id=message_id, project_id=project_id).exists()


async def load_delivery(project_id: int, rows: list[ChatMessage]) -> Delivery:
    """A batch of the project's new `rows`, with the project and the users and milestones
    they name, in three queries, for every subscriber of the project in this process at
    once; the feed adds the subscribers' viewers (infra.feeds)."""
    project = await Project.get(id=project_id)
    user_ids = {project.client_id, project.freelancer_id}
    milestone_ids: set[int] = set()
    for row in rows:
        user_ids.update(u for u in (row.author_id, row.actor_id) if u)
        if row.milestone_id:
            milestone_ids.add(row.milestone_id)
    users = {u.id: u for u in await User.filter(id__in=user_ids)}
    milestones = (
        {m.id: m for m in await Milestone.filter(id__in=milestone_ids)} if milestone_ids else {}
    )
    return Delivery(project, rows, {}, users, milestones)


def follow_refusal(viewer: User | None, project: Project) -> ApiError | None:
    """Why `viewer` may not follow `project`'s chat now; None if they may. A subscription
    asks it with the token as it is now, before its replay and before every delivery:
    `viewer` is None when the token was revoked or has expired."""
    if viewer is None:
        return Unauthenticated("Your session has ended. Sign in again.")
    if not access.can_see_project(viewer, project):
        return NotFound("Project not found.")
    return None


async def messages_between(
    project_id: int, after: int, up_to: int, *, limit: int
) -> list[ChatMessage]:
    """The project's messages with `after` < id <= `up_to`, oldest first, at most `limit`."""
    query = ChatMessage.filter(project_id=project_id, id__gt=after, id__lte=up_to)
    return await query.order_by("id").limit(limit)


def _page_sql(
    project_ids: Sequence[int], forward: bool, limit: int, after: int | None, before: int | None
) -> str:
    """One SELECT per project, each limited through the (project_id, id) index, joined by
    UNION ALL: it reads the rows it returns, however long each chat is (a window function
    over the projects would number every message of every chat first).

    Every value is an int formatted with %d, so nothing from a request reaches the SQL text
    as text.
    """
    bounds = "".join(
        f' AND "id" {op} {int(value):d}'
        for op, value in ((">", after), ("<", before))
        if value is not None
    )
    order = "ASC" if forward else "DESC"
    arms = [
        f'SELECT * FROM ({CHAT_MESSAGE_ROWS.select()} WHERE "project_id" = {int(pid):d}{bounds} '
        f'ORDER BY "id" {order} LIMIT {int(limit):d}) AS "p{n}"'
        for n, pid in enumerate(project_ids)
    ]
    return " UNION ALL ".join(arms)


async def _projects_with_messages_beyond(
    project_ids: Sequence[int], cursor: int, forward: bool
) -> set[int]:
    """The projects with a message at or before `cursor` (forward), at or after it (back)."""
    query = ChatMessage.filter(project_id__in=project_ids)
    query = query.filter(id__lte=cursor) if forward else query.filter(id__gte=cursor)
    rows = await query.distinct().values("project_id")
    return {row["project_id"] for row in rows}
