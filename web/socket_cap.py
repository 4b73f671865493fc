"""At most MAX_SOCKETS_PER_ADDRESS open WebSockets per client address, in each process.

An idle WebSocket costs its client nothing and the server a few tens of kilobytes for as
long as it stays open: one address could hold thousands. Sockets are counted per client
address as the rate limits count requests (web/client_address.py: the socket's peer, or
behind TRUSTED_PROXIES the client they name), from the upgrade request until the socket
closes. One over the cap is refused before the handshake completes: HTTP 429 with a JSON
error `TOO_MANY_SOCKETS` and `Retry-After`, which a browser's WebSocket reports as a failed
connection, and which a client can tell from a server that is down. Closing a socket frees
its place at once.

The count is per process (several processes allow that many times the cap). Only
WebSockets are counted, and only the WebSocket route is wrapped: plain HTTP connections
are short-lived, bounded by the keep-alive and header timeouts (web/http_protocol.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from settings import Network
from web.client_address import client_address
from web.errors import send_refusal

# Seconds a refused client is asked to wait: long enough not to spin, short enough that
# it gets back in once one of its sockets has closed.
RETRY_AFTER_SECONDS = 10


class SocketsPerAddress:
    """ASGI middleware: refuses WebSocket upgrades over `limit` open ones per address."""

    def __init__(self, app: ASGIApp, *, limit: int, trusted_proxies: Sequence[Network]) -> None:
        self.app = app
        self.limit = limit
        self.trusted_proxies = trusted_proxies
        # Address -> its open sockets; an address leaves when its last socket closes.
        self.open: dict[str, int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        peer = scope.get("client")
        address = client_address(
            peer[0] if peer else None,
            Headers(scope=scope).getlist("x-forwarded-for"),
            self.trusted_proxies,
        )
        count = self.open.get(address, 0)
        if count >= self.limit:
            await self._refuse(send)
            return
        self.open[address] = count + 1
        try:
            await self.app(scope, receive, send)
        finally:
            left = self.open[address] - 1
            if left:
                self.open[address] = left
            else:
                del self.open[address]

    async def _refuse(self, send: Send) -> None:
        message = (
            f"{self.limit} WebSockets are open from your address, the most allowed; "
            "close one first."
        )
        retry_after = (b"retry-after", str(RETRY_AFTER_SECONDS).encode())
        await send_refusal(send, 429, message, "TOO_MANY_SOCKETS", [retry_after], websocket=True)
