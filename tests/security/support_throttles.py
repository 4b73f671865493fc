"""Helpers for the throttle tests: a client at an address of its choosing, aliased documents,
and what a server queued, read from its database."""

from __future__ import annotations

import contextlib
import random
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx

from tests.support import Api

# Server processes for these tests believe X-Forwarded-For from the test client (127.0.0.1).
TRUSTING = {"TRUSTED_PROXIES": "127.0.0.1"}


def rate_limits(**windows: str) -> dict[str, str]:
    """RATE_LIMITS for a server process: every window at its default but `windows`."""
    return {"RATE_LIMITS": ",".join(f"{name}={rate}" for name, rate in windows.items())}


def fresh_address() -> str:
    """An address of its own (a /64 of the documentation range), even across runs that
    share one Redis."""
    return f"2001:db8:{random.getrandbits(16):x}:{random.getrandbits(16):x}::1"


@contextlib.asynccontextmanager
async def api_at(url: str, address: str, connections: int = 100) -> AsyncIterator[Api]:
    """A client whose requests reach `url` through a trusted proxy, from `address`, over
    up to `connections` connections at once."""
    headers = {"X-Forwarded-For": address}
    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(
        base_url=url, timeout=60, headers=headers, limits=limits
    ) as client:
        yield Api(client)


def aliased(field: str, inputs: list[dict[str, Any]], selection: str) -> tuple[str, Any]:
    """One mutation document calling `field` once per input, as a0, a1, ...: its text and
    variables, for `Api.post`."""
    input_type = f"{field[0].upper()}{field[1:]}Input!"
    declared = ", ".join(f"$a{n}: {input_type}" for n in range(len(inputs)))
    calls = " ".join(f"a{n}: {field}(input: $a{n}) {{ {selection} }}" for n in range(len(inputs)))
    variables = {f"a{n}": value for n, value in enumerate(inputs)}
    return f"mutation({declared}) {{ {calls} }}", variables


def outcomes(body: dict[str, Any], count: int) -> tuple[list[Any], list[dict[str, Any]]]:
    """(the payloads of the aliases that ran, the extensions of those refused), after
    checking that every refusal is RATE_LIMITED with a wait and names its alias."""
    ran = [body["data"][f"a{n}"] for n in range(count) if body["data"][f"a{n}"] is not None]
    errors = body.get("errors", [])
    refused = [e["extensions"] for e in errors]
    assert all(e["code"] == "RATE_LIMITED" and e["retryAfter"] >= 1 for e in refused), errors
    assert sorted(e["path"][0] for e in errors) == sorted(
        f"a{n}" for n in range(count) if body["data"][f"a{n}"] is None
    )
    return ran, refused


async def queued_emails(database_url: str, project_pk: int) -> int:
    """How many e-mails about the project the server has queued (its outbox rows)."""
    query = "SELECT COUNT(*) FROM outbox_email WHERE project_id = "
    if database_url.startswith("sqlite://"):
        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite://"))) as db:
            return int(db.execute(query + "?", (project_pk,)).fetchone()[0])
    connection = await asyncpg.connect(database_url)
    try:
        return int(await connection.fetchval(query + "$1", project_pk))
    finally:
        await connection.close()
