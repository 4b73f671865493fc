"""The edge as one ASGI app: every route and middleware, built from the settings.

server.py hands it the process's lifespan (the database, the event hub, the worker) and
serves it; what answers HTTP and WebSocket requests, and in which order the layers see
them, is decided here.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import cast

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, ExceptionHandler

from models.db import UNAVAILABLE
from settings import Settings
from web.app_page import app_routes
from web.body_limit import BodyLimit
from web.calendar_feed import calendar_routes
from web.graphiql import ASSETS_DIR, ASSETS_PATH
from web.graphql_app import GraphQLApp
from web.health import DatabaseHealth
from web.idempotency_keys import IdempotentMutations
from web.metrics import serve_metrics
from web.persisted_queries import DocumentLru
from web.probes import Readiness, StartupGate, live
from web.request_ids import RequestIds
from web.socket_cap import SocketsPerAddress
from web.unsubscribe import unsubscribe

Lifespan = Callable[[Starlette], AbstractAsyncContextManager[None]]


def graphql_endpoints(settings: Settings) -> tuple[ASGIApp, ASGIApp]:
    """/graphql's HTTP endpoint (behind the Idempotency-Key layer) and its WebSocket one."""
    graphql = GraphQLApp(
        graphiql=settings.graphiql,
        allowed_origins=settings.allowed_origins,
        trusted_proxies=settings.trusted_proxies,
        introspection=settings.introspection,
        request_timeout_seconds=settings.request_timeout_seconds,
        persisted_queries=DocumentLru(
            settings.persisted_queries_max_entries, settings.persisted_queries_max_bytes
        ),
    )
    # The only WebSocket route: counted there, so that plain HTTP pays nothing for it.
    sockets = SocketsPerAddress(
        graphql,
        limit=settings.max_sockets_per_address,
        trusted_proxies=settings.trusted_proxies,
    )
    endpoint = IdempotentMutations(
        graphql,
        request_seconds=settings.request_timeout_seconds,
        documents=graphql.persisted_queries,
    )
    return endpoint, sockets


def routes(settings: Settings, readiness: Readiness, health: DatabaseHealth) -> list[BaseRoute]:
    endpoint, sockets = graphql_endpoints(settings)
    return [
        Route("/graphql", endpoint, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", sockets),
        Route("/healthz", health.check),
        Route("/unsubscribe/{token}", unsubscribe, methods=["GET", "POST"]),
        *calendar_routes(settings.trusted_proxies),
        Route("/livez", live),
        Route("/readyz", readiness.ready),
        *([Route("/metrics", serve_metrics)] if settings.metrics else []),
        Mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="graphiql"),
        *app_routes(settings.app),
    ]


def middleware(settings: Settings, readiness: Readiness) -> list[Middleware]:
    """The layers around every route, outermost first."""
    return [
        # First: every line logged for the request carries its id.
        Middleware(RequestIds),
        Middleware(StartupGate, readiness=readiness),
        # Inside Starlette's error handling, so that it sees the refusal, not a crash.
        Middleware(BodyLimit, max_bytes=settings.max_body_bytes),
    ]


def edge_app(settings: Settings, readiness: Readiness, lifespan: Lifespan) -> Starlette:
    """The app: its routes and middleware, and 503 (or 1013 for a WebSocket) for a request
    that finds the database down outside its operation."""
    health = DatabaseHealth()
    return Starlette(
        routes=routes(settings, readiness, health),
        lifespan=lifespan,
        exception_handlers=dict.fromkeys(UNAVAILABLE, cast(ExceptionHandler, health.refuse)),
        middleware=middleware(settings, readiness),
    )
