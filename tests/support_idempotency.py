"""Helpers for the Idempotency-Key tests: requests with the header, and what a project holds."""

from __future__ import annotations

import contextlib
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

from tests.support import Account, Api, future, pk

ADD = """mutation Add($input: AddMilestoneInput!) { addMilestone(input: $input) {
  errors { code field message } milestone { id title dueDate } } }"""
SEND = """mutation($input: SendChatMessageInput!) { sendChatMessage(input: $input) {
  errors { code } message { id body } } }"""
STATE = """query($id: ID!) { project(id: $id) {
  milestones { title }
  chat(last: 100) { edges { node { kind body } } } } }"""


async def post(
    api: Api, account: Account, query: str, variables: dict[str, Any], key: str | None
) -> httpx.Response:
    """POST /graphql as `account`, with `key` as the Idempotency-Key header if given."""
    headers = {"Authorization": f"Bearer {account.token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return await api.client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )


def add_input(project_id: str, title: str) -> dict[str, Any]:
    return {"input": {"projectId": project_id, "title": title, "dueDate": future(10)}}


async def add(
    api: Api, freelancer: Account, project_id: str, title: str, key: str
) -> httpx.Response:
    return await post(api, freelancer, ADD, add_input(project_id, title), key)


async def state(api: Api, member: Account, project_id: str) -> tuple[Counter[str], Counter[str]]:
    """The project's milestone titles and chat event kinds, counted."""
    project = (await api.data(STATE, {"id": project_id}, member.token))["project"]
    titles = Counter(m["title"] for m in project["milestones"])
    kinds = Counter(e["node"]["kind"] for e in project["chat"]["edges"])
    return titles, kinds


def error_code(response: httpx.Response) -> str:
    [error] = response.json()["errors"]
    return str(error["extensions"]["code"])


@contextlib.asynccontextmanager
async def project_row_locked(
    database_url: str, project_id: str
) -> AsyncIterator[asyncpg.Connection]:
    """Hold the project's row lock (PostgreSQL), as a change to it in progress does: every
    mutation that changes the project waits for it. Yields the connection holding it."""
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            await conn.execute("SELECT id FROM project WHERE id = $1 FOR UPDATE", pk(project_id))
            yield conn
    finally:
        await conn.close()


async def held_keys(conn: asyncpg.Connection, user_id: str) -> int:
    """How many of the user's keys are held by a request still running."""
    count = await conn.fetchval(
        "SELECT count(*) FROM idempotency_key WHERE user_id = $1 AND status_code IS NULL",
        pk(user_id),
    )
    return int(count)


async def kept_bodies(database_url: str, user_id: str | None = None) -> list[bytes]:
    """The bodies the idempotency table holds (of one user's keys, if given), read with a
    connection of the test's own, as anyone with the database would read them."""
    sql = "SELECT body FROM idempotency_key WHERE body IS NOT NULL"
    args: tuple[int, ...] = ()
    if user_id is not None:
        sql += " AND user_id = {}"
        args = (pk(user_id),)
    parts = urlsplit(database_url)
    if parts.scheme == "sqlite":
        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite://"))) as db:
            rows = db.execute(sql.format("?"), args).fetchall()
        return [bytes(body) for (body,) in rows]
    dsn = urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))
    conn = await asyncpg.connect(dsn)
    try:
        records = await conn.fetch(sql.format("$1"), *args)
    finally:
        await conn.close()
    return [bytes(record["body"]) for record in records]
