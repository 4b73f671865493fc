"""Subscription resolvers: live chat events of one project.

Access is checked when subscribing (UNAUTHENTICATED, then NOT_FOUND, as for `project`) and
again before every delivery, against the token as it is now: a logged-out token ends the
subscription with UNAUTHENTICATED, lost access with NOT_FOUND, and nothing more is sent.

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
from typing import Annotated

import strawberry
from starlette.websockets import WebSocket

from infra import events
from infra.feeds import Ended, LocalFeeds, Subscriber
from models import Project
from schema.authorize import authorized_find
from schema.context import Context, Info
from schema.types.project import ChatMessageType
from schema.ws import current_operation, shared_results
from services import access
from services.errors import NotFound, Unauthenticated

logger = logging.getLogger("milestones.subscriptions")

# Close code and reason for a subscriber whose queue overflowed (1013: try again later).
SLOW_SUBSCRIBER_CLOSE_CODE = 1013
SLOW_SUBSCRIBER_CLOSE_REASON = "Too slow reading chat events; reconnect to resume."

# Close tasks started from a synchronous callback; kept so they are not collected mid-run.
_closing: set[asyncio.Task[None]] = set()


async def chat_events(
    info: Info,
    project_id: Annotated[
        strawberry.ID, strawberry.argument(description="The project whose chat to follow.")
    ],
) -> AsyncIterator[ChatMessageType]:
    # A plain coroutine (not a generator) so that a refusal is raised before the stream
    # starts and reaches the client as the operation's `error` message.
    # No token check here: schema.ws re-checked the connection's token when this
    # operation's `subscribe` arrived, and ends the socket when the token stops working.
    context = info.context
    project = await authorized_find(info, Project, project_id)
    on_overflow = _closer(context.request) if isinstance(context.request, WebSocket) else None
    feeds = events.feeds()
    subscriber = await feeds.subscribe(project.id, context.token, on_overflow)
    return _deliver(context, feeds, subscriber)


async def _deliver(
    context: Context, feeds: LocalFeeds, subscriber: Subscriber
) -> AsyncGenerator[ChatMessageType, None]:
    operation = current_operation.get()
    try:
        while True:
            delivery = await subscriber.get()
            if isinstance(delivery, Ended) or subscriber.overflowed:
                return
            viewer = delivery.viewers.get(subscriber.token_hash)
            if viewer is None:
                # The token was revoked: this connection is signed out from now on.
                context.viewer = None
                raise Unauthenticated("Your session has ended. Sign in again.")
            if not access.can_see_project(viewer, delivery.project):
                raise NotFound("Project not found.")
            shared = shared_results(delivery)
            # The WebSocket Context lives as long as the connection: each delivery brings
            # fresh loaders, primed with the rows the feed already read.
            context.loaders = shared.loaders
            for message in delivery.messages:
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
