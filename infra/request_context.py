"""What the log lines of one request share: its request id, operation and user.

Kept in context variables, so that every line logged while the request is handled (and by
the tasks it starts) carries them without being passed around (`infra/logs.py` reads them).
The request id comes from the client's `X-Request-ID` when that is a short token of safe
characters (a proxy or client may already have one), or is made here; it is returned in
the response's `X-Request-ID` header, stored with the e-mails the request queues, and set
again by the delivery worker while it sends them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
_HEADER_KEY = HEADER.lower().encode()
# Long enough for a UUID, a W3C trace id or a proxy's own format; short and plain enough
# that a client cannot forge log lines, flood them, or smuggle markup through the id.
MAX_LENGTH = 128
_SAFE = re.compile(rf"[A-Za-z0-9._:@+=/-]{{1,{MAX_LENGTH}}}")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
operation_name: ContextVar[str | None] = ContextVar("operation_name", default=None)
user_id: ContextVar[int | None] = ContextVar("user_id", default=None)
# Seconds the request's GraphQL operation took (set when it ends), for the access log line.
duration: ContextVar[float | None] = ContextVar("duration", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def acting_for(rid: str | None) -> Iterator[None]:
    """Log as part of request `rid` (work it caused, done later: its e-mail) in the block."""
    token = request_id.set(rid)
    try:
        yield
    finally:
        request_id.reset(token)


def accepted_request_id(value: str | None) -> str | None:
    """`value` if it may serve as a request id, else None (a new one is made instead)."""
    if value is None or not _SAFE.fullmatch(value):
        return None
    return value


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
