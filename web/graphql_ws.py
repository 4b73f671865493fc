"""graphql-transport-ws with sessions that end, and live chatEvents that cost little idle.

Every operation on a socket runs as its token's current user: each `subscribe` message
re-checks the token first, and one revoked or expired closes the socket with 4403 (as a bad
token does at connection time) instead of running. A socket opened with a token is also
registered in `infra.open_sockets`, so that a revocation anywhere (logOut,
logOutEverywhere, expiry) stops its operations and closes it with 4403 at once, not at its
next message. Anonymous sockets stay anonymous and open.

A chatEvents operation runs through strawberry as any other until it is live (authorized,
in its project's feed, its replay sent): then its stream ends without `complete`, and a
`LiveSubscription` (web.live_delivery) takes its place in the table of operations
(frameworks.strawberry), so that the
per-connection limit, `complete` from the client, a closed socket, a revoked token and a
shutdown all end it as they end any operation. The feed's worker hands the connection the
encoded frames to write (`push`): in order, without waiting on one slow socket.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from contextlib import suppress
from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)

from frameworks import strawberry as operations_table
from infra import eager
from infra.open_sockets import open_sockets
from infra.shutdown import open_connections
from models import hash_token
from resolvers.subscriptions import current_operation
from schema.context import Context
from schema.dataloaders import Loaders
from services import auth
from web.graphql_guards import field_problem
from web.live_delivery import LiveSubscription, RunningOperation

logger = logging.getLogger("milestones.subscriptions")

# Close code and reason for a client whose subscriptions' frames piled up (1013: try later).
SLOW_SUBSCRIBER_CLOSE_CODE = 1013
SLOW_SUBSCRIBER_CLOSE_REASON = "Too slow reading chat events; reconnect to resume."

# Writes that had to wait, and closes of slow clients: kept so none is collected mid-run.
_writing: set[asyncio.Task[None]] = set()


def _remembering_nothing() -> Loaders:
    """Loaders that cache nothing: one set for every idle connection's context, which no
    operation reads (each gets its own when it arrives), and which could keep no rows if
    one did."""
    loaders = Loaders()
    for name in Loaders.__slots__:
        getattr(loaders, name).cache = False
    return loaders


IDLE_LOADERS = _remembering_nothing()

# A socket whose session ended closes as one refused at connection time does.
SESSION_ENDED_CLOSE_CODE = 4403
SESSION_ENDED_CLOSE_REASON = "Session ended; sign in again."


def message_problem(message: object) -> str | None:
    """What makes a message invalid before strawberry reads it (it would crash on these):
    the protocol closes the socket with 4400 and this reason."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return "A message must be a JSON object with a `type` string."
    kind = message["type"]
    if kind in ("subscribe", "complete") and not isinstance(message.get("id"), str):
        return "A subscribe or complete message needs an `id` string."
    if kind == "subscribe":
        payload = message.get("payload")
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return "A subscribe message needs a `payload` object with a `query` string."
        return field_problem(payload)
    return None


class SharedResultsWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, plus sessions that end and live chatEvents (web.live_delivery)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The hash of the token the connection was accepted with; "" while anonymous.
        self.token_hash = ""
        self.session_ended = False
        self._ending: asyncio.Task[None] | None = None
        # Subscriptions in their feed whose operation has not handed over yet (replaying).
        self.joining: dict[str, LiveSubscription] = {}
        # Live subscriptions whose strawberry operation waits (LIVE_OPERATIONS off).
        self.live: dict[str, LiveSubscription] = {}
        # Frames waiting for the socket while a write waits; None while nothing waits.
        self._backlog: list[list[str]] | None = None
        self._cut_off = False
        # So that a shutdown can close it with 1001 (going away) first.
        open_connections.add(self)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        # Answered: the payload (the token is kept) and the timer are no longer needed.
        operations_table.forget_connection_init(self)
        if self.connection_acknowledged and self.context.token and not self.token_hash:
            # Only once accepted: a refused token has no socket to end.
            self.token_hash = hash_token(self.context.token)
            open_sockets.add(self.token_hash, self)

    async def handle_message(self, message: Message) -> None:
        problem = message_problem(message)
        if problem:
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)

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
        # Rows read for this operation, not the connection's earlier ones (see hand_over).
        self.context.loaders = Loaders()
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
        for operation_id in operations_table.operation_ids(self):
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
        # One string for every subscription that sent the same: held by each while live.
        current_operation.set(RunningOperation(self, operation.id, sys.intern(key)))
        try:
            await super().run_operation(operation)
        finally:
            self._leave_feed(operation.id)

    def is_live(self, subscription: LiveSubscription) -> bool:
        held = self.live.get(subscription.id) is subscription
        return held or operations_table.holds(self, subscription.id, subscription)

    def finish(self, subscription: LiveSubscription, frames: list[str]) -> None:
        """End a live subscription with its last frames (web.live_delivery)."""
        if self.live.pop(subscription.id, None) is subscription:
            operations_table.stop(self, subscription.id)  # its waiting operation
        elif operations_table.holds(self, subscription.id, subscription):
            operations_table.release(self, subscription.id)
        subscription.leave()
        self.push(frames, subscription.feeds.queue_size)

    async def cleanup_operation(self, operation_id: str) -> None:
        if (operation := operations_table.held(self, operation_id, LiveSubscription)) is not None:
            operations_table.release(self, operation_id)
            operation.leave()
            return
        self._leave_feed(operation_id)
        await super().cleanup_operation(operation_id)

    def _leave_feed(self, operation_id: str) -> None:
        for waiting in (self.joining, self.live):
            if (subscription := waiting.pop(operation_id, None)) is not None:
                subscription.leave()

    def encode(self, payload: dict[str, Any]) -> str:
        encoded = self.view.encode_json(payload)
        assert isinstance(encoded, str)
        return encoded

    def push(self, frames: list[str], limit: int) -> None:
        """Write `frames` after what was pushed before, without waiting: a write the socket
        cannot take now finishes in a task, and later frames wait in the backlog; a backlog
        of `limit` batches (as many as a feed allows a subscriber) cuts the connection off."""
        if self._cut_off:
            return
        if self._backlog is not None:
            if len(self._backlog) >= limit:
                self.cut_off()
            else:
                self._backlog.append(frames)
            return
        self._backlog = []
        writing = eager.start(self._write(frames))
        if writing is not None:
            _writing.add(writing)
            writing.add_done_callback(_writing.discard)

    async def _write(self, frames: list[str]) -> None:
        send = self.context.request.send_text  # type: ignore[union-attr]  # this handler only serves WebSockets
        try:
            while True:
                for frame in frames:
                    await send(frame)
                if not self._backlog or self._cut_off:
                    break
                frames = self._backlog.pop(0)
        except Exception:  # closed meanwhile: the receiving side ends the connection
            self._cut_off = True
        finally:
            self._backlog = None

    def cut_off(self) -> None:
        """Disconnect a client too slow to keep up with its subscriptions, with a reason it
        can act on; its subscriptions leave their feeds at once."""
        if self._cut_off:
            return
        self._cut_off = True
        logger.warning("closing a chat subscriber that stopped reading")
        for operation in operations_table.records(self, LiveSubscription):
            operations_table.release(self, operation.id)
            operation.leave()
        for operation in list(self.live.values()):
            operation.leave()  # its operation ends with the others, in go_away
        closing = asyncio.create_task(
            self.go_away(SLOW_SUBSCRIBER_CLOSE_CODE, SLOW_SUBSCRIBER_CLOSE_REASON)
        )
        _writing.add(closing)
        closing.add_done_callback(_writing.discard)
