"""GET /healthz (the contract's check), and what requests that find the database down get."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket
from tortoise import connections

from models.db import UNAVAILABLE
from web.errors import refusal

logger = logging.getLogger("milestones")

# /healthz answers within this whether or not the database does: a probe that hangs tells
# a load balancer nothing, and a frozen database must read as unhealthy.
HEALTH_TIMEOUT_SECONDS = 3.0
# Requests refused for want of the database are logged at most this often, with their count.
REFUSALS_LOG_SECONDS = 10.0
# What a request refused for want of the database gets: a GraphQL error a client can act on.
TRY_LATER = "The service is temporarily unavailable; try again shortly."


class DatabaseHealth:
    """What the process says, and logs, about its database while it is down and back: the
    log says when the answer changes, not at each probe or refused request (under load, an
    outage would otherwise write a line per request)."""

    def __init__(self) -> None:
        self.healthy: bool | None = None
        self.refused = 0
        self.reported_at = -REFUSALS_LOG_SECONDS

    async def check(self, request: Request) -> JSONResponse:
        """GET /healthz: 200 once the database answers, 503 within seconds while it does not."""
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS):
                await connections.get("default").execute_query("SELECT 1")
        except Exception as error:  # any failure to reach the database means "not healthy"
            if not isinstance(error, UNAVAILABLE):
                logger.exception("health check failed")
            elif self.healthy is not False:
                logger.error("health check: database unreachable (%r)", error)
            self.healthy = False
            return JSONResponse({"status": "unavailable"}, status_code=503)
        if self.healthy is False:
            logger.info("health check: database reachable again")
        self.healthy = True
        return JSONResponse({"status": "ok"})

    async def refuse(self, conn: HTTPConnection, error: Exception) -> Response | None:
        """A request that found the database down outside its operation (reading its session):
        503 with a GraphQL error, or its WebSocket closed with 1013 (try again later)."""
        self.refused += 1
        if time.monotonic() - self.reported_at >= REFUSALS_LOG_SECONDS:
            logger.warning(
                "database unavailable (%r): %d requests refused since the last such line",
                error,
                self.refused,
            )
            self.refused, self.reported_at = 0, time.monotonic()
        if isinstance(conn, WebSocket):
            with contextlib.suppress(Exception):  # the socket may be gone already
                await conn.close(1013, "Database unavailable; reconnect shortly.")
            return None
        return refusal(503, TRY_LATER, "SERVICE_UNAVAILABLE", headers={"Retry-After": "5"})
