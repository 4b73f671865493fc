"""What of uvicorn's protocols the API relies on beyond its published API.

uvicorn publishes `Config(http=..., ws=...)` taking a protocol class, but not the classes
themselves: their attributes and the order they call their methods in may change in any
minor release. The API's protocols (web/http_protocol.py, web/ws_protocol.py) subclass
them and reach their state only through this module; the graceful server
(infra/shutdown.py) fills in the hooks of `HookedServer`. Tested with uvicorn 0.54 and 0.55
(`frameworks.fast_paths.UVICORN`); outside them the version check turns LEAN_WEBSOCKETS and
HTTP_DEADLINES off, and `protocols` hands uvicorn the name of its own protocol instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import uvicorn

# The protocol uvicorn picks for "httptools" (installed here): parser callbacks
# `on_message_begin`, `on_headers_complete`; the asyncio protocol methods; attributes
# `loop` and `transport` (as in 0.54 and 0.55).
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# The protocol uvicorn picks for "websockets-sansio" (0.35 onwards; as described here in 0.35
# to 0.55): attributes `queue` (an asyncio.Queue of messages for the app: put_nowait, get),
# `writable` (an asyncio.Event for write pressure: set, clear, wait), `handshake_complete`,
# and `request`/`response`, the handshake's, which nothing reads once it is answered.
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

# The exit status uvicorn gives a failed start-up (`uvicorn.server`; in 0.54 and 0.55, not
# yet in 0.35).
from uvicorn.server import STARTUP_FAILURE

from frameworks.fast_paths import HTTP_DEADLINES, LEAN_WEBSOCKETS

__all__ = ["HookedServer", "HttpToolsProtocol", "WebSocketsSansIOProtocol"]

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


class _LifespanLater:
    """Stands in for uvicorn's lifespan while the server starts listening: the real one's
    start-up runs after (`HookedServer.startup`)."""

    def __init__(self, lifespan: Any) -> None:
        self.state = lifespan.state
        self.should_exit = False

    async def startup(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


class HookedServer(uvicorn.Server):
    """uvicorn's server (published: `Server(config).run()`), with hooks at the steps of its
    start and stop, which uvicorn does not publish (tested with 0.54 and 0.55):

    - `startup(sockets)` opens the listening sockets (kept in `servers`) and runs the
      application's lifespan start-up (`lifespan`: `startup()`, `shutdown()`, `state`,
      `should_exit`). Here it listens first, with a stand-in lifespan, and runs the real
      start-up after, so that the process answers its probes during a long migration
      (`on_listening`, then `on_started`); a failed start-up exits with uvicorn's STARTUP_FAILURE.
    - `on_tick(counter)` runs about ten times a second: `on_stop_due` may ask to stop.
    - `capture_signals()` installs `handle_exit` for SIGINT and SIGTERM, and re-raises the
      signal once the server has stopped; here it does not (a clean stop exits with 0).
    - `handle_exit(sig, frame)`: `on_signal` may hold the signal back (a delayed stop).
    - `shutdown(sockets)`: the listening sockets close, then `on_stopping` runs before uvicorn
      waits for open connections and requests.

    If uvicorn changes these, start-up or a graceful stop fails the tests that run the
    server as a process (tests/faults/test_shutdown.py, tests/faults/test_probes.py).
    """

    def on_listening(self) -> None:
        pass

    def on_started(self) -> None:
        pass

    def on_stop_due(self) -> bool:
        """Whether to stop now."""
        return False

    def on_signal(self, sig: int) -> bool:
        """Whether the signal was dealt with (uvicorn then does nothing with it)."""
        return False

    async def on_stopping(self) -> None:
        pass

    def stop_listening(self) -> None:
        for server in getattr(self, "servers", ()):
            server.close()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        lifespan = self.lifespan
        self.lifespan = _LifespanLater(lifespan)  # type: ignore[assignment]  # duck-typed stand-in
        self.on_listening()
        try:
            await super().startup(sockets)  # listening from here on
        finally:
            self.lifespan = lifespan
        await lifespan.startup()
        if lifespan.should_exit:  # start-up failed, and said why: exit as uvicorn would
            self.stop_listening()
            sys.exit(STARTUP_FAILURE)
        self.on_started()

    async def on_tick(self, counter: int) -> bool:
        if self.on_stop_due():
            self.should_exit = True
        return await super().on_tick(counter)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {signum: signal.signal(signum, self.handle_exit) for signum in handled}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self.on_signal(sig):
            super().handle_exit(sig, frame)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.stop_listening()
        await self.on_stopping()
        await super().shutdown(sockets)
