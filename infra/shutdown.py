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

Before step 1, with SHUTDOWN_DELAY_SECONDS, the process keeps serving that long while
/readyz answers 503 (`process_state.stopping`), so that an orchestrator stops sending it
traffic before it stops accepting any (Kubernetes updates its endpoints some seconds after
the signal). A second signal cuts the delay short.

At start, the server listens before the application's start-up (migrations, services) is
done, so that /livez answers, and /readyz says "starting", however long a migration takes
(web/probes.py answers for the application meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
import weakref
from typing import Protocol

import uvicorn

from frameworks.uvicorn import HookedServer

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


class ProcessState:
    """Whether this process listens before its start-up is done, or has been told to stop
    (a signal is for the whole process)."""

    starting = False
    stopping = False


process_state = ProcessState()


class GracefulServer(HookedServer):
    """uvicorn's server, starting and stopping as the module docstring describes (through the
    hooks of frameworks.uvicorn.HookedServer)."""

    def __init__(
        self,
        config: uvicorn.Config,
        *,
        connections: OpenConnections = open_connections,
        close_within: float = CLOSE_WEBSOCKETS_WITHIN,
        delay_seconds: float = 0.0,
    ) -> None:
        super().__init__(config)
        self.connections = connections
        self.close_within = close_within
        self.delay_seconds = delay_seconds
        self._stop_at: float | None = None

    def on_listening(self) -> None:
        process_state.starting = True

    def on_started(self) -> None:
        process_state.starting = False

    def on_stop_due(self) -> bool:
        return self._stop_at is not None and time.monotonic() >= self._stop_at

    def on_signal(self, sig: int) -> bool:
        name = signal.Signals(sig).name
        if not process_state.stopping and self.delay_seconds > 0:
            process_state.stopping = True
            self._stop_at = time.monotonic() + self.delay_seconds
            logger.info("received %s: not ready; shutting down in %g s", name, self.delay_seconds)
            return True
        process_state.stopping = True
        if not self.should_exit:
            logger.info("received %s: shutting down", name)
        return False

    async def on_stopping(self) -> None:
        # Step 1 (the listening sockets closed) before step 2: a client told to go away
        # must not reconnect to this process.
        count = len(self.connections)
        if count:
            logger.info("closing %d WebSockets with %d (going away)", count, GOING_AWAY)
            await self.connections.close_all(GOING_AWAY, GOING_AWAY_REASON, self.close_within)
