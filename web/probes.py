"""What an orchestrator asks a server process: is it alive (/livez), may it get traffic
(/readyz).

- `/livez`: 200 while the process runs and its event loop answers, from the moment it
  listens; nothing else is checked (restarting a process because its database is down
  would not bring the database back).
- `/readyz`: 200 once start-up is done (the schema migrated, every service started), the
  database answers, its schema has every committed migration, Redis answers when
  REDIS_URL is set, and the process is not shutting down; otherwise 503 naming what is not
  ready. Each check is bounded in time, the whole within READY_TIMEOUT_SECONDS.

`python server.py` listens (infra/shutdown.py) before its start-up is done: meanwhile
`StartupGate` answers the probes, and refuses everything else with 503 and Retry-After.
"""

from __future__ import annotations

import asyncio
import logging
import pkgutil
from typing import Any

import redis.asyncio as aioredis
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send
from tortoise import connections

from infra.shutdown import process_state
from models import migrations
from web.errors import refusal

logger = logging.getLogger("milestones.probes")

READY_TIMEOUT_SECONDS = 3.0
LIVE_PATH, READY_PATH = "/livez", "/readyz"
MIGRATIONS_TABLE = "tortoise_migrations"
# The newest committed migration: recorded once the database schema is up to date.
LATEST_MIGRATION = max(m.name for m in pkgutil.iter_modules(migrations.__path__))
# One query for both: the database answers, and its schema is up to date. Constants only.
_MIGRATED = (
    f"SELECT COUNT(*) AS n FROM {MIGRATIONS_TABLE} "
    f"WHERE app = 'models' AND name = '{LATEST_MIGRATION}'"
)
STARTING = "The server is starting; try again shortly."


async def live(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


class Readiness:
    """The /readyz answer of one app."""

    def __init__(self, redis_url: str = "") -> None:
        self.redis_url = redis_url
        self._redis: aioredis.Redis | None = None
        self._ready: bool | None = None

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def _database(self) -> str:
        try:
            _, rows = await connections.get("default").execute_query(_MIGRATED)
        except Exception as error:
            return f"unreachable ({type(error).__name__})"
        return "ok" if rows and int(rows[0]["n"]) else "migrations pending"

    async def _redis_check(self) -> str:
        if self._redis is None:
            self._redis = aioredis.Redis.from_url(
                self.redis_url, protocol=2, socket_connect_timeout=1.0, socket_timeout=1.0
            )
        try:
            await self._redis.ping()
        except Exception as error:
            return f"unreachable ({type(error).__name__})"
        return "ok"

    async def _checks(self) -> dict[str, str]:
        checks = {"database": await self._database()}
        if self.redis_url:
            checks["redis"] = await self._redis_check()
        return checks

    async def ready(self, request: Request) -> JSONResponse:
        if process_state.stopping:
            return self._answer("stopping", {})
        if process_state.starting:
            return self._answer("starting", {})
        try:
            async with asyncio.timeout(READY_TIMEOUT_SECONDS):
                checks = await self._checks()
        except TimeoutError:
            checks = {"timeout": f"no answer within {READY_TIMEOUT_SECONDS:g} s"}
        ok = all(value == "ok" for value in checks.values())
        return self._answer("ready" if ok else "unavailable", checks)

    def _answer(self, status: str, checks: dict[str, str]) -> JSONResponse:
        ready = status == "ready"
        if ready is not self._ready and status not in ("starting", "stopping"):
            # A line when the answer changes, not one per probe.
            level = logging.INFO if ready else logging.WARNING
            logger.log(level, "readiness: %s %s", status, checks)
            self._ready = ready
        body: dict[str, Any] = {"status": status}
        if checks:
            body["checks"] = checks
        return JSONResponse(body, status_code=200 if ready else 503)


class StartupGate:
    """ASGI middleware: while the process is starting, answers only the probes."""

    def __init__(self, app: ASGIApp, readiness: Readiness) -> None:
        self.app = app
        self.readiness = readiness

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not process_state.starting or scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1013, "reason": "Starting."})
            return
        path = scope.get("path", "")
        response: Response
        if path == LIVE_PATH:
            response = await live(Request(scope))
        elif path == READY_PATH:
            response = await self.readiness.ready(Request(scope))
        else:
            response = refusal(503, STARTING, "SERVICE_UNAVAILABLE", headers={"Retry-After": "5"})
        await response(scope, receive, send)
