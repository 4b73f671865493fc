"""uvicorn's sans-I/O WebSocket protocol, holding less for each open socket.

Thousands of chat subscribers sit idle on their sockets, so what each one holds is the
server's memory. uvicorn's protocol keeps, for the life of the connection, the handshake's
request and response (their headers parsed twice over: the ASGI scope keeps its own copy),
an `asyncio.Queue` for the few messages on their way to the app, and an `asyncio.Event`
for write pressure: four deques of ~760 bytes each, nearly always empty. This subclass
lets go of the handshake once it is done (and empties the request's headers, which the
`websockets` parser holds on to) and swaps the queue and the event for a list and
a future made when someone waits. Its behaviour is uvicorn's: same messages, same order,
same back-pressure. What of uvicorn it reaches: frameworks/uvicorn.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

from frameworks.uvicorn import WebSocketsSansIOProtocol, forget_handshake, lighter_waiting
from infra.inbox import Inbox


class _Gate:
    """The subset of `asyncio.Event` uvicorn uses (set, clear, wait)."""

    __slots__ = ("_open", "_waiters")

    def __init__(self) -> None:
        self._open = True
        self._waiters: list[asyncio.Future[None]] | None = None

    def set(self) -> None:
        self._open = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._open = False

    async def wait(self) -> None:
        if self._open:
            return
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        await waiter


class LeanWebSocketsProtocol(WebSocketsSansIOProtocol):
    """What `uvicorn.Config(ws=...)` runs for each WebSocket connection."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lighter_waiting(self, Inbox(), _Gate())

    async def send(self, message: Any) -> None:
        await super().send(message)
        # Read only until the handshake is answered; the scope keeps the headers.
        forget_handshake(self)
