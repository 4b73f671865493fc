"""Stopping a server process the way supervisors, proxies and clients expect.

On SIGTERM or SIGINT, `GracefulServer`, in this order:

1. stops accepting connections: a new one is refused, so a proxy sends it to another process;
2. closes every open WebSocket registered in `open_connections` with 1001 "going away",
   after stopping its operations, so that its client reconnects at once, to another process,
   instead of finding out from a dead socket later;
3. lets in-flight HTTP requests finish and answers them (uvicorn's graceful shutdown, for up
   to the config's `timeout_graceful_shutdown`); idle keep-alive connections are closed;
4. runs the application's lifespan shutdown (the delivery worker finishes, or hands back, the
   e-mail in hand; the database and Redis connections close);
5. returns normally, so that the process exits with status 0. uvicorn alone re-raises the
   signal once it has stopped cleanly, and the process then dies "killed by SIGTERM", which
   supervisors count as a crash.

A second SIGINT skips the waiting in 3 and 4 (uvicorn's force exit); the exit is still 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import weakref
from collections.abc import Iterator
from types import FrameType
from typing import Protocol

import uvicorn

logger = logging.getLogger("milestones.shutdown")

GOING_AWAY = 1001
GOING_AWAY_REASON = "Server shutting down; reconnect."
# How long step 2 waits for clients to acknowledge the close before uvicorn's own shutdown
# drops whatever is left (a client that stopped reading must not delay the others' requests).
CLOSE_WEBSOCKETS_WITHIN = 2.0


class Leaving(Protocol):
    """A connection that can be told the server is going away."""

    async def go_away(self, code: int, reason: str) -> None:
        """Stop the connection's work and close it with `code`."""


class OpenConnections:
    """This process's open WebSockets. Weak references: it never keeps one alive."""

    def __init__(self) -> None:
        self._open: weakref.WeakSet[Leaving] = weakref.WeakSet()

    def add(self, connection: Leaving) -> None:
        self._open.add(connection)

    def discard(self, connection: Leaving) -> None:
        self._open.discard(connection)

    def __len__(self) -> int:
        return len(self._open)

    async def close_all(self, code: int, reason: str, within: float) -> int:
        """Close every open connection with `code`, and wait for them to be gone.

        Connections that register while this runs (accepted just before the listener
        closed) are closed too. Gives up after `within` seconds; returns how many it closed.
        """
        told: set[Leaving] = set()  # held strongly until the end: each is told once
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                while self._open:
                    fresh = [c for c in list(self._open) if c not in told]
                    told.update(fresh)
                    await asyncio.gather(
                        *(c.go_away(code, reason) for c in fresh), return_exceptions=True
                    )
                    await asyncio.sleep(0.02)
        return len(told)


# One per process: a WebSocket belongs to the process that accepted it.
open_connections = OpenConnections()


class GracefulServer(uvicorn.Server):
    """uvicorn's server, stopping as the module docstring describes."""

    def __init__(
        self,
        config: uvicorn.Config,
        *,
        connections: OpenConnections = open_connections,
        close_within: float = CLOSE_WEBSOCKETS_WITHIN,
    ) -> None:
        super().__init__(config)
        self.connections = connections
        self.close_within = close_within

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn's own version re-raises the signal after the clean stop (step 5).
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {signum: signal.signal(signum, self.handle_exit) for signum in handled}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self.should_exit:
            logger.info("received %s: shutting down", signal.Signals(sig).name)
        super().handle_exit(sig, frame)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Step 1 before step 2: a client told to go away must not reconnect to this process.
        for server in getattr(self, "servers", ()):
            server.close()
        count = len(self.connections)
        if count:
            logger.info("closing %d WebSockets with %d (going away)", count, GOING_AWAY)
            await self.connections.close_all(GOING_AWAY, GOING_AWAY_REASON, self.close_within)
        await super().shutdown(sockets)
