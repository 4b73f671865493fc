"""Test helpers: a real server on a free loopback port, and a small GraphQL client for it.

Helpers for chat events are in support_ws.py, for e-mail delivery in support_mail.py, for
server processes in support_processes.py; fixtures are in conftest.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import itertools
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import uvicorn
from tortoise.backends.base.executor import EXECUTOR_CACHE

from schema.ids import from_global_id, use_key
from server import create_app
from services.throttles import DEFAULT_WINDOWS
from settings import Settings
from web.ws_protocol import LeanWebSocketsProtocol

ROOT = Path(__file__).resolve().parent.parent  # where server.py is
# The ID key of the servers the tests run (see running_server and support_processes).
TEST_ID_SECRET = "test-id-secret"
# The tests read IDs with that key too, also when no server of theirs runs in this process.
use_key(TEST_ID_SECRET.encode())
PASSWORD = "correct horse battery"
# The suite is one address and a few users doing in minutes what people do in months: its
# servers get rate-limit windows it never fills. tests/security/test_throttles.py tests the
# real budgets on servers of its own.
SUITE_RATE_LIMITS = tuple((name, 1_000_000, 1) for name in DEFAULT_WINDOWS)
_counter = itertools.count(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def future(days: int = 30) -> str:
    return (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days)).isoformat()


def pk(global_id: str) -> int:
    """The database id inside a Relay global ID."""
    parsed = from_global_id(global_id)
    assert parsed is not None, global_id
    return parsed[1]


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 15.0) -> None:
    """Wait until `check()` holds; fail after `within` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def fresh_postgres_database(admin_url: str) -> AsyncIterator[str]:
    """Create an empty database beside `admin_url`'s and yield its Tortoise URL; drop it after."""
    parts = urlsplit(admin_url)
    name = f"milestones_test_{uuid.uuid4().hex[:12]}"
    dsn = urlunsplit(("postgresql", parts.netloc, parts.path or "/postgres", "", ""))
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield urlunsplit(("postgres", parts.netloc, f"/{name}", "", ""))
    finally:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@dataclass
class RunningServer:
    url: str
    settings: Settings

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    @property
    def ws_url(self) -> str:
        return self.graphql_url.replace("http://", "ws://")


@contextlib.asynccontextmanager
async def running_server(settings: Settings) -> AsyncIterator[RunningServer]:
    """Serve create_app(settings) with uvicorn in this event loop until the block ends."""
    # Tortoise caches SQL per connection name for the whole process; the suite switches
    # the "default" connection between SQLite and PostgreSQL, so start each server clean.
    EXECUTOR_CACHE.clear()
    # Global IDs are signed with one key per process: every server this process runs, and
    # the tests reading their IDs, share it (a database-kept key is tested on its own).
    settings = dataclasses.replace(settings, id_secret=settings.id_secret or TEST_ID_SECRET)
    port = free_port()
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        proxy_headers=False,  # as server.py runs it: only TRUSTED_PROXIES name the client
        ws=LeanWebSocketsProtocol,  # as server.py runs it
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server stopped during start-up")
        await asyncio.sleep(0.02)
    try:
        yield RunningServer(url=f"http://127.0.0.1:{port}", settings=settings)
    finally:
        server.should_exit = True
        await task


@dataclass
class Account:
    id: str
    token: str
    email: str
    name: str
    role: str


class Api:
    """Sends GraphQL documents over HTTP, as a web client would."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code in (200, 400), response.text
        return response.json()

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """The `data` of a response that must have no top-level errors."""
        body = await self.post(query, variables, token)
        assert "errors" not in body, body
        return body["data"]

    async def sign_up(self, role: str = "CLIENT", name: str | None = None) -> Account:
        n = next(_counter)
        name = name or f"{role.title()} {n}"
        email = f"{role.lower()}-{n}-{uuid.uuid4().hex[:8]}@example.com"
        data = await self.data(
            """mutation($input: SignUpInput!) {
                 signUp(input: $input) { errors { code } token user { id } } }""",
            {"input": {"email": email, "password": PASSWORD, "name": name, "role": role}},
        )
        payload = data["signUp"]
        assert payload["errors"] == [], payload
        return Account(payload["user"]["id"], payload["token"], email, name, role)

    async def admin(self) -> Account:
        """An admin, made the operator's way (the same service as create-admin), then logged in."""
        from models import Role
        from services.auth import create_user

        n = next(_counter)
        email = f"admin-{n}-{uuid.uuid4().hex[:8]}@example.com"
        await create_user(
            email=email,
            password=PASSWORD,
            name=f"Admin {n}",
            role=Role.ADMIN,
            allowed_roles=(Role.ADMIN,),
        )
        data = await self.data(
            """mutation($input: LogInInput!) {
                 logIn(input: $input) { errors { code } token user { id } } }""",
            {"input": {"email": email, "password": PASSWORD}},
        )
        login = data["logIn"]
        return Account(login["user"]["id"], login["token"], email, f"Admin {n}", "ADMIN")

    async def create_project(
        self,
        client: Account,
        freelancer: Account,
        *,
        completion_date: str | None = None,
        payment_required: bool = True,
        title: str = "Data pipeline audit",
    ) -> str:
        data = await self.data(
            """mutation($input: CreateProjectInput!) {
                 createProject(input: $input) { errors { code field } project { id } } }""",
            {
                "input": {
                    "title": title,
                    "freelancerId": freelancer.id,
                    "completionDate": completion_date or future(60),
                    "initialPaymentRequired": payment_required,
                }
            },
            client.token,
        )
        assert data["createProject"]["errors"] == [], data
        return data["createProject"]["project"]["id"]

    async def unlock(self, admin: Account, project_id: str, *, pay: bool = True) -> None:
        ref = {"input": {"projectId": project_id}}
        if pay:
            await self.data(
                "mutation($input: ProjectRefInput!) { recordInitialPayment(input: $input) "
                "{ errors { code } } }",
                ref,
                admin.token,
            )
        data = await self.data(
            "mutation($input: ProjectRefInput!) { unlockMilestones(input: $input) "
            "{ errors { code } project { milestonesUnlocked } } }",
            ref,
            admin.token,
        )
        assert data["unlockMilestones"]["errors"] == [], data

    async def add_milestone(
        self, freelancer: Account, project_id: str, title: str, due: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        data = await self.data(
            """mutation($input: AddMilestoneInput!) {
                 addMilestone(input: $input) {
                   errors { code field message }
                   milestone { id title description dueDate completed } } }""",
            {
                "input": {
                    "projectId": project_id,
                    "title": title,
                    "dueDate": due or future(10),
                    **extra,
                }
            },
            freelancer.token,
        )
        return data["addMilestone"]


@dataclass
class Team:
    """A project with its client, freelancer and an admin, milestones unlocked."""

    client: Account
    freelancer: Account
    admin: Account
    outsider: Account
    project_id: str


async def make_team(api: Api, *, unlocked: bool = True, payment_required: bool = True) -> Team:
    client = await api.sign_up("CLIENT")
    freelancer = await api.sign_up("FREELANCER")
    outsider = await api.sign_up("FREELANCER")
    admin = await api.admin()
    project_id = await api.create_project(client, freelancer, payment_required=payment_required)
    if unlocked:
        await api.unlock(admin, project_id, pay=payment_required)
    return Team(client, freelancer, admin, outsider, project_id)


def backends() -> list[str]:
    return ["sqlite", "postgres"] if os.environ.get("TEST_DATABASE_URL") else ["sqlite"]
