"""graphql-transport-ws with sessions that end, and shared results.

Every operation on a socket runs as its token's current user: each `subscribe` message
re-checks the token first, and one revoked or expired closes the socket with 4403 (as a bad
token does at connection time) instead of running. A socket opened with a token is also
registered in `infra.open_sockets`, so that a revocation anywhere (logOut,
logOutEverywhere, expiry) stops its operations and closes it with 4403 at once, not at its
next message. Anonymous sockets stay anonymous and open.

Subscribers of one chat event that sent the same document for the same viewer get one
execution: the first executes through strawberry as usual, and its encoded `next` payload is
handed to the others, which send it under their own operation id. `SharedResults` owns that
state for one delivery; `SharedResultsWSHandler` intercepts the payload to hand over.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from starlette.websockets import WebSocketDisconnect
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)

from infra.feeds import Delivery
from infra.open_sockets import open_sockets
from infra.shutdown import open_connections
from models import hash_token
from schema.context import Context
from schema.dataloaders import Loaders
from services import auth

# (chat message id, viewer id, operation key): what decides one subscriber's result.
ResultKey = tuple[int, int, str]

# A socket whose session ended closes as one refused at connection time does.
SESSION_ENDED_CLOSE_CODE = 4403
SESSION_ENDED_CLOSE_REASON = "Session ended; sign in again."


class SharedResults:
    """What the subscribers of one delivery share: loaders primed with the rows the feed
    read, and one encoded result per (message, viewer, document)."""

    __slots__ = ("_results", "loaders")

    def __init__(self, delivery: Delivery) -> None:
        # One set per delivery: same rows, read at the same moment, never older ones.
        self.loaders = Loaders()
        self.loaders.project_by_id.prime(delivery.project.id, delivery.project)
        self.loaders.user_by_id.prime_many(dict(delivery.users))
        self.loaders.milestone_by_id.prime_many(dict(delivery.milestones))
        self._results: dict[ResultKey, asyncio.Future[str | None]] = {}

    def claim(self, key: ResultKey) -> asyncio.Future[str | None] | None:
        """The result another subscriber is producing for `key`, or None when the caller is
        the first and must execute (its result then goes to the future `claim` created)."""
        result = self._results.get(key)
        if result is None:
            self._results[key] = asyncio.get_running_loop().create_future()
        return result

    def produced(self, key: ResultKey) -> asyncio.Future[str | None]:
        return self._results[key]


# Lives exactly as long as its delivery: when the last subscriber has read it, it goes.
_shared: weakref.WeakKeyDictionary[Delivery, SharedResults] = weakref.WeakKeyDictionary()


def shared_results(delivery: Delivery) -> SharedResults:
    shared = _shared.get(delivery)
    if shared is None:
        shared = _shared[delivery] = SharedResults(delivery)
    return shared


@dataclass(frozen=True, slots=True)
class RunningOperation:
    """One subscription operation on one connection."""

    handler: SharedResultsWSHandler
    id: str
    # The document, operation name and variables: what, with the viewer, decides the result.
    key: str

    @contextmanager
    def capturing(self, result: asyncio.Future[str | None]) -> Iterator[None]:
        """Hand the next `next` payload this operation sends to `result` (None if none)."""
        self.handler.captures[self.id] = result
        try:
            yield
        finally:
            self.handler.captures.pop(self.id, None)
            if not result.done():
                result.set_result(None)  # no result: the others execute alone

    async def send_shared(self, payload: str) -> None:
        await self.handler.send_encoded_next(self.id, payload)


# Set in each operation's task, so the subscription's generator knows where it is sending.
current_operation: ContextVar[RunningOperation | None] = ContextVar("chat_operation", default=None)


class SharedResultsWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, plus sessions that end and shared chatEvents results."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Operation id -> the future its next `next` message's payload is handed to.
        self.captures: dict[str, asyncio.Future[str | None]] = {}
        # The hash of the token the connection was accepted with; "" while anonymous.
        self.token_hash = ""
        self.session_ended = False
        self._ending: asyncio.Task[None] | None = None
        # So that a shutdown can close it with 1001 (going away) first.
        open_connections.add(self)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self.context.token and not self.token_hash:
            # Only once accepted: a refused token has no socket to end.
            self.token_hash = hash_token(self.context.token)
            open_sockets.add(self.token_hash, self)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.token_hash:
            # The token may have been revoked, or have expired, since the last operation.
            viewer = None
            if not self.session_ended:
                viewer = await auth.user_for_token(self.context.token)
            if viewer is None:
                await self._end_session()
                return
            self.context.viewer = viewer
        await super().handle_subscribe(message)

    def end_session(self) -> None:
        """Stop every operation and close with 4403, from outside the socket's own task."""
        if self._ending is None:
            self._ending = asyncio.create_task(self._end_session())

    async def _end_session(self) -> None:
        self.session_ended = True
        self.context.viewer = None
        await self.go_away(SESSION_ENDED_CLOSE_CODE, SESSION_ENDED_CLOSE_REASON)

    async def go_away(self, code: int, reason: str) -> None:
        """Stop every operation, so that none sends after the close, then close with `code`.

        Also how the server's shutdown ends the socket (1001), from outside its own task.
        """
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        with suppress(Exception):  # already closed by the client: nothing left to do
            await self.websocket.close(code=code, reason=reason)

    async def shutdown(self) -> None:
        open_connections.discard(self)
        if self.token_hash:
            open_sockets.discard(self.token_hash, self)
        await super().shutdown()

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        key = json.dumps(
            [operation.query, operation.operation_name, operation.variables], sort_keys=True
        )
        current_operation.set(RunningOperation(self, operation.id, key))
        await super().run_operation(operation)

    async def send_message(self, message: Message) -> None:
        capture = self.captures.pop(str(message.get("id", "")), None)
        if capture is None or message["type"] != "next":
            await super().send_message(message)
            return
        payload = self.view.encode_json(message["payload"])  # type: ignore[typeddict-item]  # a "next" message, checked above
        assert isinstance(payload, str)
        if not capture.done():
            capture.set_result(payload)
        await self.send_encoded_next(message["id"], payload)  # type: ignore[typeddict-item]  # a "next" message, checked above

    async def send_encoded_next(self, operation_id: str, payload: str) -> None:
        """Send an already encoded result as operation `operation_id`'s `next` message."""
        if operation_id not in self.operations:
            return  # completed or cancelled meanwhile
        text = f'{{"id":{json.dumps(operation_id)},"type":"next","payload":{payload}}}'
        try:
            await self.context.request.send_text(text)  # type: ignore[union-attr]  # this handler only serves WebSockets
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc
