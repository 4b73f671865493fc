"""The outermost layer of the app: each HTTP request and WebSocket gets its request id.

The id (infra/request_context.py) is the client's `X-Request-ID` when it is acceptable,
else a new one, and goes back in the response's (or the WebSocket accept's) header, so a
client can quote it when it reports a problem.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.request_context import (
    HEADER,
    accepted_request_id,
    duration,
    new_request_id,
    operation_name,
    request_id,
    user_id,
)

_HEADER_KEY = HEADER.lower().encode()


def _client_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == _HEADER_KEY:
            try:
                return accepted_request_id(value.decode("ascii"))
            except UnicodeDecodeError:
                return None
    return None


class RequestIds:
    """ASGI middleware: gives each HTTP request and WebSocket its request id.

    The outermost layer: the id is set before anything else logs, and the variables are
    cleared of whatever an earlier request on the same connection left.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rid = _client_request_id(scope) or new_request_id()
        request_id.set(rid)
        operation_name.set(None)
        user_id.set(None)
        duration.set(None)
        header = (_HEADER_KEY, rid.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        await self.app(scope, receive, send_with_id)
