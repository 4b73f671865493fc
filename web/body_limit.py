"""Request bodies over MAX_BODY_BYTES are refused with 413 before they are held in memory.

A declared `Content-Length` over the limit is refused at once, without reading a byte of
the body. A body without one (chunked) is counted as it streams in, and refused as soon as
the count passes the limit: the server never holds more than the limit plus one chunk.
Every HTTP route sits behind this, not only /graphql: nothing here needs a large body.

A client that closes its connection before its whole body has come (a page closed, a
network gone, a benchmark stopped) is expected, and nobody is left to answer: starlette's
ClientDisconnect ends the request with one INFO line, not a traceback at ERROR.
"""

from __future__ import annotations

import logging

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.errors import send_refusal

logger = logging.getLogger("milestones.http")


class BodyTooLarge(Exception):
    """Raised into the app by `receive` once the body has passed the limit."""


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the HTTP server refuses a malformed length before we see it
    return None


class BodyLimit:
    """ASGI middleware: answers 413 for HTTP request bodies larger than `max_bytes`."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            # Every endpoint reads its whole body before it answers, so nothing has been sent
            # yet; were it otherwise, the connection just ends with the half-sent response.
            if not started:
                await self._refuse(send)
        except ClientDisconnect:
            logger.info("client closed the connection before sending its whole body")

    async def _refuse(self, send: Send) -> None:
        message = f"The request body is larger than {self.max_bytes} bytes."
        # The rest of the body is never read: the connection cannot be reused.
        await send_refusal(send, 413, message, "PAYLOAD_TOO_LARGE", [(b"connection", b"close")])
