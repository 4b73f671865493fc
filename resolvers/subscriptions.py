"""Subscription resolvers: live chat events of one project.

Access is checked when subscribing (UNAUTHENTICATED, then NOT_FOUND, as for `project`) and
again before every delivery, against the token as it is now: a logged-out token ends the
subscription with UNAUTHENTICATED, lost access with NOT_FOUND, and nothing more is sent.

Resuming (`after`): the subscriber joins the project's feed first, so nothing committed from
then on can be missed, and learns the feed's starting point; the messages after `after` up to
that point are read from the database and sent first, then the feed's, which start after it.
The seam is exact: a message at or before it that the feed offered anyway is skipped.

Once authorized and replayed, the subscription hands over to live delivery
(web.live_delivery): the feed sends to it directly, executing each event once for all
subscribers who would get the same result, and nothing of this resolver stays behind while
it waits. The socket side runs above this layer: it sets `current_operation`, and this
module knows it only as a `LiveOperation`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Annotated, Protocol

import strawberry

from infra.token_lifetime import read_tokens
from models import ChatMessage, Project, User
from schema.authorize import authorized_find
from schema.context import Context, Info
from schema.dataloaders import Loaders
from schema.ids import pk_of
from schema.pagination import MAX_PAGE
from schema.types.project import ChatMessageType
from services import chat
from services.errors import BadUserInput


class LiveOperation(Protocol):
    """The graphql-transport-ws operation a chatEvents subscription runs in
    (web.live_delivery.RunningOperation, in the layer above)."""

    @property
    def token_hash(self) -> str:
        """The hash of the token the socket was opened with; "" while anonymous."""

    async def join(self, project_id: int) -> int:
        """Enter the project's feed; every message above the returned id will be sent,
        those up to it are the subscription's to replay (infra.feeds.LocalFeeds.enter)."""

    async def hand_over(self, floor: int) -> None:
        """End the stream without `complete`; from now on send the feed's messages above
        `floor`, held since `join`, then live. (Or wait here until the subscription ends,
        where the operation cannot give its place to a live subscription.)"""


# Set in each socket operation's task, so that chatEvents knows where it runs.
current_operation: ContextVar[LiveOperation | None] = ContextVar("chat_operation", default=None)

AFTER_DESCRIPTION = (
    "The ID of the last ChatMessage the client saw: later messages of the project are "
    "replayed first, in order, then the subscription goes live. At most "
    f"{MAX_PAGE} are replayed: when more were posted since, the subscription is refused "
    "with BAD_USER_INPUT and sends nothing; read the chat with `project { chat }` and "
    "subscribe again with the newest message's ID. An ID that is not a message of the "
    "project is BAD_USER_INPUT as well."
)


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
    # No token check here: web.graphql_ws re-checked the connection's token when this
    # operation's `subscribe` arrived, and ends the socket when the token stops working.
    operation = current_operation.get()
    if operation is None:
        # Only web.graphql_ws runs subscriptions: HTTP refuses them (web.graphql_guards).
        raise RuntimeError("chatEvents runs over graphql-transport-ws only")
    project = await authorized_find(info, Project, project_id)
    # Unset (no default shown in the schema) and null both mean: live only.
    after_pk = await _resume_point(project, after) if isinstance(after, str) else None
    # Until it is handed over, the subscription holds what the feed offers; if the operation
    # ends before, it leaves the feed.
    start = await operation.join(project.id)
    if after_pk is None:
        return _stream(info.context, operation, Resume(project, [], 0))
    missed = await _missed(project, after_pk, start)
    # The feed may start before `after` (another process's feed, a moment behind): what the
    # client saw is not sent again either way.
    return _stream(info.context, operation, Resume(project, missed, max(after_pk, start)))


@dataclass(frozen=True, slots=True)
class Resume:
    """Where a subscription starts: its project, the messages to replay, and the id after
    which the feed's messages are sent."""

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


async def _stream(
    context: Context, operation: LiveOperation, resume: Resume
) -> AsyncGenerator[ChatMessageType, None]:
    """The replay, executed for this subscriber alone; then the hand-over to live delivery.

    A replay is one client's, and rare: it goes through strawberry as any operation does,
    and the feed's batches that arrive meanwhile wait in the subscription until it is sent.
    """
    for replayed in await _replay(context, operation.token_hash, resume):
        yield replayed
    await operation.hand_over(resume.floor)


async def _replay(context: Context, token_hash: str, resume: Resume) -> list[ChatMessageType]:
    """The missed messages, checked as a delivery is: against the token as it is now."""
    if not resume.missed:
        return []
    live, _ = await read_tokens([token_hash], with_user=True)
    row = live.get(token_hash)
    viewer = _admit(context, row.user if row else None, resume.project)
    # Loaders of the replay's own, so that no delivery's rows stand in for newer ones.
    context.loaders = Loaders()
    context.loaders.project_by_id.prime(resume.project.id, resume.project)
    return [ChatMessageType.build(message, viewer) for message in resume.missed]


def _admit(context: Context, viewer: User | None, project: Project) -> User:
    """`viewer` if they may still follow `project`; otherwise end the subscription."""
    refusal = chat.follow_refusal(viewer, project)
    if refusal is not None:
        if viewer is None:
            # The token was revoked: this connection is signed out from now on.
            context.viewer = None
        raise refusal
    assert viewer is not None  # no refusal
    return viewer
