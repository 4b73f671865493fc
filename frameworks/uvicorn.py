"""What of uvicorn's protocols the API relies on beyond its published API.

uvicorn publishes `Config(http=..., ws=...)` taking a protocol class, but not the classes
themselves: their attributes and the order they call their methods in may change in any
minor release. The API's protocols (infra/http_protocol.py, infra/ws_protocol.py) subclass
them and reach their state only through this module. Tested with uvicorn 0.54 and 0.55
(`frameworks.fast_paths.UVICORN`); outside them the version check turns LEAN_WEBSOCKETS and
HTTP_DEADLINES off, and `protocols` hands uvicorn the name of its own protocol instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

# The protocol uvicorn picks for "httptools" (installed here): parser callbacks
# `on_message_begin`, `on_headers_complete`; the asyncio protocol methods; attributes
# `loop` and `transport` (0.1x onwards).
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# The protocol uvicorn picks for "websockets-sansio" (0.35 onwards): attributes `queue` (an
# asyncio.Queue of messages for the app: put_nowait, get), `writable` (an asyncio.Event for
# write pressure: set, clear, wait), `handshake_complete`, and `request`/`response`, the
# handshake's, which nothing reads once it is answered.
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from frameworks.fast_paths import HTTP_DEADLINES, LEAN_WEBSOCKETS

__all__ = ["HttpToolsProtocol", "WebSocketsSansIOProtocol"]

# What uvicorn.Config names its own protocols, used when a fast path is off.
UVICORN_HTTP = "httptools"
UVICORN_WS = "websockets-sansio"


def protocols(ws: type[WebSocketsSansIOProtocol], http: type[HttpToolsProtocol]) -> dict[str, Any]:
    """uvicorn.Config's `ws` and `http`: these protocols, or uvicorn's own where the fast
    path resting on them is off."""
    return {
        "ws": ws if LEAN_WEBSOCKETS.on else UVICORN_WS,
        "http": http if HTTP_DEADLINES.on else UVICORN_HTTP,
    }


def lighter_waiting(protocol: WebSocketsSansIOProtocol, queue: Any, gate: Any) -> None:
    """Swap the protocol's `queue` and `writable` for lighter objects with the parts of
    asyncio.Queue and asyncio.Event uvicorn uses. If uvicorn renamed them, the new ones
    would simply be used instead (more memory, same behaviour)."""
    protocol.queue = queue
    protocol.writable = gate
    LEAN_WEBSOCKETS.runs += 1


def forget_handshake(protocol: WebSocketsSansIOProtocol) -> None:
    """Once the handshake is answered, drop its request and response (and empty the
    request's headers, which the `websockets` parser keeps for the connection's life)."""
    if protocol.handshake_complete and hasattr(protocol, "response"):
        protocol.request.headers.clear()
        del protocol.request, protocol.response


def call_later(
    protocol: HttpToolsProtocol, seconds: float, callback: Callable[[], None]
) -> asyncio.TimerHandle:
    """A deadline on the protocol's own loop (`HttpToolsProtocol.loop`)."""
    HTTP_DEADLINES.runs += 1
    return protocol.loop.call_later(seconds, callback)


def transport(protocol: HttpToolsProtocol) -> asyncio.Transport:
    """The connection's transport (`HttpToolsProtocol.transport`, set in connection_made)."""
    return protocol.transport
