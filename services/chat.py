"""The project chat: people's messages, and reading pages of it."""

from __future__ import annotations

from infra.unit_of_work import atomic
from models import ChatMessage, Project, User
from services import notifications
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


async def page(
    project_id: int,
    *,
    first: int | None,
    after: int | None,
    last: int | None,
    before: int | None,
) -> tuple[list[ChatMessage], bool, bool]:
    """A page of the chat, oldest first, and whether there are more after and before it.

    `first`/`after` page forwards from the oldest; `last`/`before` page back from the
    newest. Exactly one of `first` and `last` is given.
    """
    query = ChatMessage.filter(project_id=project_id)
    if after is not None:
        query = query.filter(id__gt=after)
    if before is not None:
        query = query.filter(id__lt=before)
    if first is not None:
        rows = await query.order_by("id").limit(first + 1)
        has_next = len(rows) > first
        rows = rows[:first]
        has_previous = (
            after is not None
            and await ChatMessage.filter(project_id=project_id, id__lte=after).exists()
        )
        return rows, has_next, has_previous
    assert last is not None
    size = last
    rows = list(reversed(await query.order_by("-id").limit(size + 1)))
    has_previous = len(rows) > size
    rows = rows[-size:] if has_previous else rows
    has_next = (
        before is not None
        and await ChatMessage.filter(project_id=project_id, id__gte=before).exists()
    )
    return rows, has_next, has_previous
