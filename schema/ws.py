"""graphql-transport-ws with shared results: subscribers of one event that sent the same
document for the same viewer get one execution, sent to each under its own operation id."""

from __future__ import annotations

import asyncio
import json
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from starlette.websockets import WebSocketDisconnect
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message

from schema.context import Context


@dataclass(frozen=True, slots=True)
class RunningOperation:
    handler: SharedResultsWSHandler
    id: str
    # The document, operation name and variables: what, with the viewer, decides the result.
    key: str


# Set in each operation's task, so the subscription's generator knows where it is sending.
current_operation: ContextVar[RunningOperation | None] = ContextVar("chat_operation", default=None)


class SharedResultsWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, plus the hand-over of shared chatEvents results."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Operation id -> the future its next `next` message's payload is handed to.
        self.captures: dict[str, asyncio.Future[str | None]] = {}

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
        payload = self.view.encode_json(message["payload"])  # type: ignore[typeddict-item]
        assert isinstance(payload, str)
        if not capture.done():
            capture.set_result(payload)
        await self.send_encoded_next(message["id"], payload)  # type: ignore[typeddict-item]

    async def send_encoded_next(self, operation_id: str, payload: str) -> None:
        """Send an already encoded result as operation `operation_id`'s `next` message."""
        if operation_id not in self.operations:
            return  # completed or cancelled meanwhile
        text = f'{{"id":{json.dumps(operation_id)},"type":"next","payload":{payload}}}'
        try:
            await self.context.request.send_text(text)  # type: ignore[union-attr]
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc
