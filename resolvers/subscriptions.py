"""Subscription resolvers: live chat events of one project.

Access is checked when subscribing (UNAUTHENTICATED, then NOT_FOUND, as for `project`) and
again before every delivery, against the token as it is now: a logged-out token ends the
subscription with UNAUTHENTICATED, lost access with NOT_FOUND, and nothing more is sent.

Resuming (`after`): the subscriber joins the project's feed first, so nothing committed from
then on can be missed, and learns the feed's starting point; the messages after `after` up to
that point are read from the database and sent first, then the feed's, which start after it.
The seam is exact: a message at or before it that the feed queued anyway is skipped.

Fan-out cost: executing the same selection for a thousand subscribers of one project is the
bulk of the work, and most of them send the same document for the same user. So, per event,
subscribers with an identical (document, variables, viewer) share one execution: the first
one executes through strawberry as usual, and `schema.ws` hands its encoded payload to the
others, which send it under their own operation id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated

import strawberry
from starlette.websockets import WebSocket

from infra import events
from infra.feeds import Ended, LocalFeeds, Subscriber
from infra.token_lifetime import read_tokens
from models import ChatMessage, Project, User
from schema.authorize import authorized_find
from schema.context import Context, Info
from schema.dataloaders import Loaders
from schema.ids import pk_of
from schema.pagination import MAX_PAGE
from schema.types.project import ChatMessageType
from schema.ws import current_operation, shared_results
from services import access, chat
from services.errors import BadUserInput, NotFound, Unauthenticated

logger = logging.getLogger("milestones.subscriptions")

# Close code and reason for a subscriber whose queue overflowed (1013: try again later).
SLOW_SUBSCRIBER_CLOSE_CODE = 1013
SLOW_SUBSCRIBER_CLOSE_REASON = "Too slow reading chat events; reconnect to resume."

AFTER_DESCRIPTION = (
    "The ID of the last ChatMessage the client saw: later messages of the project are "
    "replayed first, in order, then the subscription goes live. At most "
    f"{MAX_PAGE} are replayed: when more were posted since, the subscription is refused "
    "with BAD_USER_INPUT and sends nothing; read the chat with `project { chat }` and "
    "subscribe again with the newest message's ID. An ID that is not a message of the "
    "project is BAD_USER_INPUT as well."
)

# Close tasks started from a synchronous callback; kept so they are not collected mid-run.
_closing: set[asyncio.Task[None]] = set()


async def chat_events(
    info: Info,
    project_id: Annotated[
        strawberry.ID, strawberry.argument(description="The project whose chat to follow.")
    ],
    after: Annotated[
        strawberry.ID | None, strawberry.argument(description=AFTER_DESCRIPTION)
    ] = strawberry.UNSET,
) -> AsyncIterator[ChatMessageType]:
    # A plain coroutine (not a generator) so that a refusal is raised before the stream
    # starts and reaches the client as the operation's `error` message.
    # No token check here: schema.ws re-checked the connection's token when this
    # operation's `subscribe` arrived, and ends the socket when the token stops working.
    context = info.context
    project = await authorized_find(info, Project, project_id)
    # Unset (no default shown in the schema) and null both mean: live only.
    after_pk = await _resume_point(project, after) if isinstance(after, str) else None
    on_overflow = _closer(context.request) if isinstance(context.request, WebSocket) else None
    feeds = events.feeds()
    subscriber, start = await feeds.join(project.id, context.token, on_overflow)
    if after_pk is None:
        return _deliver(context, feeds, subscriber, Resume(project, [], 0))
    try:
        missed = await _missed(project, after_pk, start)
    except BaseException:
        feeds.unsubscribe(subscriber)
        raise
    # The feed may start before `after` (another process's feed, a moment behind): what the
    # client saw is not sent again either way.
    return _deliver(context, feeds, subscriber, Resume(project, missed, max(after_pk, start)))


@dataclass(frozen=True, slots=True)
class Resume:
    """Where a subscription starts: the messages to replay, and the id the feed's batches
    must be above to be sent (0: all of them)."""

    project: Project
    missed: list[ChatMessage]
    floor: int


async def _resume_point(project: Project, after: str) -> int:
    """The key of `after`, a message of `project`; BAD_USER_INPUT for anything else."""
    pk = pk_of(after, "ChatMessage")
    if pk is None or not await chat.is_message_of(project.id, pk):
        raise BadUserInput("`after` is not a message of this project.", argument="after")
    return pk


async def _missed(project: Project, after: int, start: int) -> list[ChatMessage]:
    """The messages after `after` up to the feed's start; refused if more than a page."""
    missed = await chat.messages_between(project.id, after, start, limit=MAX_PAGE + 1)
    if len(missed) > MAX_PAGE:
        raise BadUserInput(
            f"More than {MAX_PAGE} messages were posted after `after`: read the chat with "
            "`project { chat }`, then subscribe again with the newest message's ID.",
            argument="after",
        )
    return missed


def _admit(context: Context, viewer: User | None, project: Project) -> User:
    """`viewer` if they may still follow `project`; otherwise end the subscription."""
    if viewer is None:
        # The token was revoked: this connection is signed out from now on.
        context.viewer = None
        raise Unauthenticated("Your session has ended. Sign in again.")
    if not access.can_see_project(viewer, project):
        raise NotFound("Project not found.")
    return viewer


async def _deliver(
    context: Context, feeds: LocalFeeds, subscriber: Subscriber, resume: Resume
) -> AsyncGenerator[ChatMessageType, None]:
    operation = current_operation.get()
    try:
        for replayed in await _replay(context, subscriber, resume):
            yield replayed
        while True:
            delivery = await subscriber.get()
            if isinstance(delivery, Ended) or subscriber.overflowed:
                return
            viewer = _admit(context, delivery.viewers.get(subscriber.token_hash), delivery.project)
            shared = shared_results(delivery)
            # The WebSocket Context lives as long as the connection: each delivery brings
            # fresh loaders, primed with the rows the feed already read.
            context.loaders = shared.loaders
            for message in delivery.messages:
                if message.id <= resume.floor:
                    continue  # replayed from the database, or seen by the client before
                event = ChatMessageType.build(message, viewer)
                if operation is None:
                    yield event
                    continue
                key = (message.id, viewer.id, operation.key)
                pending = shared.claim(key)
                if pending is None:
                    # First of its kind: execute, and hand the encoded result over.
                    with operation.capturing(shared.produced(key)):
                        yield event
                    continue
                # Shielded: cancelling this subscriber must not cancel the others' wait.
                payload = await asyncio.shield(pending)
                if payload is None:
                    yield event
                else:
                    await operation.send_shared(payload)
    finally:
        feeds.unsubscribe(subscriber)


async def _replay(
    context: Context, subscriber: Subscriber, resume: Resume
) -> list[ChatMessageType]:
    """The missed messages, checked as a delivery is: against the token as it is now.

    Each executes for this subscriber alone, never through the shared results: a replay
    is one client's, and rare, and sharing is keyed for the live batches every subscriber
    receives.
    """
    if not resume.missed:
        return []
    live, _ = await read_tokens([subscriber.token_hash], with_user=True)
    row = live.get(subscriber.token_hash)
    viewer = _admit(context, row.user if row else None, resume.project)
    # Loaders of the replay's own, so that no delivery's rows stand in for newer ones.
    context.loaders = Loaders()
    context.loaders.project_by_id.prime(resume.project.id, resume.project)
    return [ChatMessageType.build(message, viewer) for message in resume.missed]


def _closer(websocket: WebSocket) -> Callable[[], None]:
    """Disconnect a subscriber too slow to keep up, with a reason it can act on."""

    def close() -> None:
        task = asyncio.create_task(_close(websocket))
        _closing.add(task)
        task.add_done_callback(_closing.discard)

    return close


async def _close(websocket: WebSocket) -> None:
    logger.warning("closing a chat subscriber that stopped reading")
    # Already closed or gone: nothing left to do.
    with contextlib.suppress(Exception):
        await websocket.close(code=SLOW_SUBSCRIBER_CLOSE_CODE, reason=SLOW_SUBSCRIBER_CLOSE_REASON)
