"""Live chatEvents subscriptions: a small record each, and one execution per distinct result.

A chatEvents operation runs through strawberry as any other until it is live: its
`RunningOperation` joins the project's feed (infra.feeds) with a `LiveSubscription`, which
holds what the feed offers while the replay is sent; then the operation's stream ends
without `complete`, and the record takes the operation's place in its connection's table of
operations (`hand_over`). From then on nothing of it runs while it waits: no task, no
generator, no GraphQL executor; thousands of idle subscribers cost little more than their
sockets.

When the feed offers a batch, this module's worker for the project (running only while it
has batches to send, one after the other, so each socket gets them in order) checks each
subscriber against the batch's fresh read of its token and the project, executes the
subscription's document once per distinct (message, viewer, document and variables) with the
message as root value, and hands each connection its encoded `next` frames to write.

A subscriber whose token no longer works is sent UNAUTHENTICATED, one who lost access
NOT_FOUND (in a `next` message's `errors`), then `complete`, and nothing more.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError
from strawberry.types.graphql import OperationType

from frameworks import strawberry as operations_table
from infra import events
from infra.feeds import Delivery, Ended, LocalFeeds
from models import ChatMessage, User
from schema.context import Context
from schema.dataloaders import Loaders
from schema.types.project import ChatMessageType
from services import chat
from services.errors import ApiError

if TYPE_CHECKING:  # the connection imports this module to hold live subscriptions
    from web.graphql_ws import SharedResultsWSHandler

logger = logging.getLogger("milestones.subscriptions")

# (chat message id, viewer id, document key): what decides one subscriber's result.
ResultKey = tuple[int, int, str]


class LiveSubscription:
    """One chatEvents subscription, as its feed and its connection know it."""

    __slots__ = ("connection", "feeds", "floor", "held", "id", "key", "project_id", "token_hash")

    # The connection's table of operations holds it in place of strawberry's operation, and
    # reads `task` of what it holds: a live subscription runs none.
    task = None

    def __init__(self, operation: RunningOperation, project_id: int, feeds: LocalFeeds) -> None:
        self.connection = operation.handler
        self.id = operation.id
        # The document, operation name and variables, as JSON: what decides the result with
        # the viewer; one string shared by every subscription that sent the same.
        self.key = operation.key
        self.project_id = project_id
        # The feeds it joined: those it leaves, even once the server has moved on from them.
        self.feeds = feeds
        # The hash of the connection's token: the feed re-reads it for every batch.
        self.token_hash = operation.handler.token_hash
        # Only messages above this are sent (the replay sent those up to it).
        self.floor = 0
        # Batches that came while the replay was being sent: sent once it has been.
        self.held: list[Delivery | Ended] | None = []

    def offer(self, item: Delivery | Ended) -> bool:
        """Take a batch from the feed, without waiting (infra.feeds.Member)."""
        if self.held is None:
            _enqueue(self, item)
            return True
        if len(self.held) >= self.feeds.queue_size:
            self.connection.cut_off()
            return False
        self.held.append(item)
        return True

    def leave(self) -> None:
        """Out of the feed: nothing more is offered to it."""
        self.feeds.unsubscribe(self)


@dataclass(frozen=True, slots=True)
class RunningOperation:
    """One operation on one connection, while it runs: what chatEvents joins a feed with
    (resolvers.subscriptions.LiveOperation)."""

    handler: SharedResultsWSHandler
    id: str
    # The document, operation name and variables: what, with the viewer, decides the result.
    key: str

    @property
    def token_hash(self) -> str:
        return self.handler.token_hash

    async def join(self, project_id: int) -> int:
        """Put a live subscription of this operation in `project_id`'s feed; the feed's
        starting point. It holds what the feed offers until `hand_over`, and leaves the
        feed if the operation ends first (the connection's `joining`)."""
        feeds = events.feeds()
        subscription = LiveSubscription(self, project_id, feeds)
        self.handler.joining[self.id] = subscription
        return await feeds.enter(subscription)

    async def hand_over(self, floor: int) -> None:
        """The operation's stream ends here, without `complete`: from now on the feed's
        messages above `floor` go to the subscription directly, until it ends. With the
        LIVE_OPERATIONS fast path off, the operation stays strawberry's, and its task waits
        here until the subscription ends (which cancels it)."""
        handler = self.handler
        subscription = handler.joining.pop(self.id, None)
        if subscription is None or not operations_table.runs_operation(handler, self.id):
            return  # the operation ended meanwhile, and left the feed
        # The operation goes on, live, in the table of operations (frameworks.strawberry).
        if not (taken := operations_table.take_over(handler, self.id, subscription)):
            handler.live[self.id] = subscription
        subscription.floor = floor
        held, subscription.held = subscription.held, None
        for item in held or ():
            _enqueue(subscription, item)
        if (
            taken
            and handler.token_hash
            and operations_table.only_records(handler, LiveSubscription)
        ):
            # Nothing runs: each operation reads its viewer afresh when it arrives, and
            # each batch brings its own.
            handler.context.viewer = None
        if not taken:
            await asyncio.get_running_loop().create_future()


# Per project with batches to send: the batches, oldest first, each with its subscribers.
_queues: dict[int, list[tuple[Delivery | Ended, list[LiveSubscription]]]] = {}
# The workers sending them, kept so that none is collected mid-run.
_workers: set[asyncio.Task[None]] = set()


def _enqueue(subscription: LiveSubscription, item: Delivery | Ended) -> None:
    jobs = _queues.get(subscription.project_id)
    if jobs is None:
        jobs = _queues[subscription.project_id] = []
        worker = asyncio.create_task(_work(subscription.project_id, jobs))
        _workers.add(worker)
        worker.add_done_callback(_workers.discard)
    if jobs and jobs[-1][0] is item:
        jobs[-1][1].append(subscription)
    else:
        jobs.append((item, [subscription]))


async def _work(
    project_id: int, jobs: list[tuple[Delivery | Ended, list[LiveSubscription]]]
) -> None:
    try:
        while jobs:
            item, subscriptions = jobs.pop(0)
            try:
                if isinstance(item, Ended):
                    for subscription in subscriptions:
                        _complete(subscription)
                else:
                    await Batch(item).send(subscriptions)
            except Exception:
                logger.exception("sending chat events of project %s failed", project_id)
    finally:
        if _queues.get(project_id) is jobs:
            del _queues[project_id]


def _complete(subscription: LiveSubscription, *first: str) -> None:
    """End `subscription`: `first` (if any), then `complete`."""
    if subscription.connection.is_live(subscription):
        complete = f'{{"id":{json.dumps(subscription.id)},"type":"complete"}}'
        subscription.connection.finish(subscription, [*first, complete])
    else:
        subscription.leave()


class Batch:
    """One delivery being sent: its loaders, and each distinct result encoded once."""

    __slots__ = ("delivery", "frames", "loaders", "results")

    def __init__(self, delivery: Delivery) -> None:
        self.delivery = delivery
        # One set per delivery: same rows, read at the same moment, never older ones.
        self.loaders = Loaders()
        self.loaders.project_by_id.prime(delivery.project.id, delivery.project)
        self.loaders.user_by_id.prime_many(dict(delivery.users))
        self.loaders.milestone_by_id.prime_many(dict(delivery.milestones))
        self.results: dict[ResultKey, str | None] = {}
        self.frames: dict[tuple[ResultKey, str], str] = {}

    async def send(self, subscriptions: list[LiveSubscription]) -> None:
        for subscription in subscriptions:
            if not subscription.connection.is_live(subscription):
                subscription.leave()  # ended meanwhile
                continue
            viewer = self.delivery.viewers.get(subscription.token_hash)
            refusal = chat.follow_refusal(viewer, self.delivery.project)
            if refusal is not None:
                if viewer is None:
                    # The token was revoked: this connection is signed out from now on.
                    subscription.connection.context.viewer = None
                _complete(subscription, self._error_frame(subscription, refusal))
                continue
            assert viewer is not None  # no refusal
            frames = []
            for message in self.delivery.messages:
                if message.id > subscription.floor:
                    frame = await self._frame(subscription, viewer, message)
                    if frame is not None:
                        frames.append(frame)
            if frames and subscription.connection.is_live(subscription):
                subscription.connection.push(frames, subscription.feeds.queue_size)

    async def _frame(
        self, subscription: LiveSubscription, viewer: User, message: ChatMessage
    ) -> str | None:
        key = (message.id, viewer.id, subscription.key)
        frame = self.frames.get((key, subscription.id))
        if frame is not None:
            return frame
        if key in self.results:
            payload = self.results[key]
        else:
            payload = self.results[key] = await self._execute(subscription, viewer, message)
        if payload is None:
            return None
        frame = f'{{"id":{json.dumps(subscription.id)},"type":"next","payload":{payload}}}'
        self.frames[key, subscription.id] = frame
        return frame

    async def _execute(
        self, subscription: LiveSubscription, viewer: User, message: ChatMessage
    ) -> str | None:
        """The encoded result of the subscription's document for `message`, as `viewer`."""
        connection = subscription.connection
        query, operation_name, variables = json.loads(subscription.key)
        context = Context(
            request=connection.context.request,
            response=None,
            viewer=viewer,
            token=connection.context.token,
            client_address=connection.context.client_address,
            loaders=self.loaders,
            introspection=connection.context.introspection,
        )
        try:
            result = await connection.schema.execute(
                query,
                variable_values=variables,
                context_value=context,
                root_value=ChatMessageType.build(message, viewer),
                operation_name=operation_name,
                allowed_operation_types=(OperationType.SUBSCRIPTION,),
            )
        except Exception:
            logger.exception("executing a chat event failed")
            return None
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [error.formatted for error in result.errors]
        if result.extensions:
            payload["extensions"] = result.extensions
        return connection.encode(payload)

    def _error_frame(self, subscription: LiveSubscription, error: ApiError) -> str:
        formatted = GraphQLError(str(error), original_error=error).formatted
        payload = subscription.connection.encode({"data": None, "errors": [formatted]})
        return f'{{"id":{json.dumps(subscription.id)},"type":"next","payload":{payload}}}'
