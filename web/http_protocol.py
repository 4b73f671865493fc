"""uvicorn's HTTP protocol, with deadlines for clients that send too slowly or never read.

uvicorn bounds only the idle time between requests on a kept-alive connection
(`timeout_keep_alive`); a connection that dribbles its request head, a byte now and then
(slowloris), or sends nothing at all, is held for as long as the client likes, and 1,000
such connections cost the client nothing. Nor does it bound how long a response may wait
for a client that stopped reading: the response stays in memory (100 clients that never
read a 12 MB response held 650 MB) until the client goes. Two deadlines close them:

- the head deadline (HEADER_TIMEOUT_SECONDS): a request's head (request line and headers)
  must be complete within it, counted from the connection's start for its first request
  and from the request's first byte for later ones (the time between requests is
  uvicorn's keep-alive timeout). A connection that misses it is closed: no request was
  read, so nothing is running for it.
- the write deadline (WRITE_TIMEOUT_SECONDS): once the transport's buffer passes its high
  water mark, asyncio pauses the protocol (flow control) until the client has read enough;
  a connection left paused that long is aborted, which drops what it still had to send
  and wakes a response waiting to write, so that it ends.

What of uvicorn this relies on (uvicorn 0.54 to 0.55, `HttpToolsProtocol`, the protocol
uvicorn picks when httptools is installed, as it is here): the parser callbacks
`on_message_begin` and `on_headers_complete`, the asyncio protocol methods
`connection_made`, `connection_lost`, `pause_writing`, `resume_writing`, and the
attributes `loop` and `transport`. Each override calls uvicorn's own first, so its
behaviour is otherwise unchanged (its attributes are reached through frameworks/uvicorn.py); a WebSocket upgrade hands the connection to the
WebSocket protocol once the head is complete, when the head deadline is already off.
"""

from __future__ import annotations

import asyncio
from typing import Any

from frameworks.uvicorn import HttpToolsProtocol, call_later, transport


class DeadlineHttpProtocol(HttpToolsProtocol):
    """What `uvicorn.Config(http=...)` runs for each connection; see `with_deadlines`."""

    head_seconds = 10.0
    write_seconds = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._write_timer: asyncio.TimerHandle | None = None

    @classmethod
    def with_deadlines(cls, head_seconds: float, write_seconds: float) -> type[HttpToolsProtocol]:
        """The protocol class with these deadlines (uvicorn builds each instance itself)."""
        attributes = {"head_seconds": head_seconds, "write_seconds": write_seconds}
        return type(cls.__name__, (cls,), attributes)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_timer is None:  # a later request on a kept-alive connection
            self._start_head_timer()

    def on_headers_complete(self) -> None:
        self._cancel_head_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        self._cancel_write_timer()
        super().connection_lost(exc)

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._write_timer is None:
            self._write_timer = call_later(self, self.write_seconds, self._write_timed_out)

    def resume_writing(self) -> None:
        super().resume_writing()
        self._cancel_write_timer()

    def _start_head_timer(self) -> None:
        self._head_timer = call_later(self, self.head_seconds, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _cancel_write_timer(self) -> None:
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not transport(self).is_closing():
            transport(self).close()

    def _write_timed_out(self) -> None:
        self._write_timer = None
        # abort, not close: close would wait to send the rest, which is what never ends.
        transport(self).abort()
