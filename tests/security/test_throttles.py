"""Throttles shared by every process: what a script meets and a person does not.

The probes replayed: 30 aliased logIn calls for 30 accounts in one POST all ran; ten wrong
passwords locked the owner out for 15 minutes from anywhere; the log-in limiter lived in
each process's memory; 200 chat messages in a burst were all accepted; every aliased
addMilestone queued an e-mail; signUp and createProject were unlimited. Now each is cut off
at its budget with RATE_LIMITED and a `retryAfter`, every alias counting, before any work.

The budgets are shrunk for these tests (RATE_LIMITS) on server processes of their own,
which believe X-Forwarded-For from the test client, so that each test is a client at an
address of its own; the suite's shared server gives everyone room to spare.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.security.support_throttles import (
    TRUSTING,
    aliased,
    api_at,
    fresh_address,
    outcomes,
    queued_emails,
    rate_limits,
)
from tests.support import PASSWORD, Account, Api, backends, fresh_postgres_database, future, pk
from tests.support_processes import api_for, create_admin, make_team_with, server_process
from tests.support_ws import SEND

LOG_IN = "mutation($input: LogInInput!) { logIn(input: $input) { errors { code } token } }"
SMALL = rate_limits(
    log_in_address_failures_burst="10/600",
    sign_up_burst="4/600",
    create_project_burst="2/600",
    chat_burst="5/1",
    milestones_burst="3/600",
)


@dataclass
class Throttled:
    url: str
    database_url: str
    admin: Account


@pytest.fixture(scope="module", params=backends())
async def throttled(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Throttled]:
    tmp = tmp_path_factory.mktemp(f"throttled-{request.param}")
    async with _database(request.param, tmp) as database_url:
        async with (
            server_process(database_url, "", tmp, "throttled", TRUSTING | SMALL) as url,
            api_for(url) as api,
        ):
            yield Throttled(url, database_url, await create_admin(api, database_url, tmp))


@contextlib.asynccontextmanager
async def _database(backend: str, tmp: Path) -> AsyncIterator[str]:
    if backend == "postgres":
        async with fresh_postgres_database(os.environ["TEST_DATABASE_URL"]) as url:
            yield url
    else:
        yield f"sqlite://{tmp / 'throttled.sqlite3'}"


async def _log_in(api: Api, email: str, password: str) -> dict[str, Any]:
    return await api.post(LOG_IN, {"input": {"email": email, "password": password}})


def _code(body: dict[str, Any]) -> str:
    """INVALID_CREDENTIALS, RATE_LIMITED or OK for one logIn response."""
    if body.get("errors"):
        return str(body["errors"][0]["extensions"]["code"])
    payload = body["data"]["logIn"]
    return str(payload["errors"][0]["code"]) if payload["errors"] else "OK"


async def test_a_spray_over_30_accounts_in_one_post_stops_at_the_address_budget(
    throttled: Throttled,
) -> None:
    async def owner(n: int) -> Account:
        async with api_at(throttled.url, fresh_address()) as api:
            return await api.sign_up("CLIENT", name=f"Sprayed {n}")

    accounts = await asyncio.gather(*(owner(n) for n in range(30)))
    spray = [{"email": a.email, "password": "Winter2026!"} for a in accounts]
    async with api_at(throttled.url, fresh_address()) as sprayer:
        body = await sprayer.post(*aliased("logIn", spray, "errors { code } token"))
    ran, refused = outcomes(body, 30)
    assert len(ran) == 10 and len(refused) == 20
    assert all(p["errors"][0]["code"] == "INVALID_CREDENTIALS" for p in ran)
    # The accounts themselves are not locked: their owners sign in from their own places.
    async with api_at(throttled.url, fresh_address()) as elsewhere:
        assert _code(await _log_in(elsewhere, accounts[-1].email, PASSWORD)) == "OK"


async def test_a_guesser_does_not_lock_the_owner_out_from_elsewhere(throttled: Throttled) -> None:
    async with (
        api_at(throttled.url, fresh_address()) as at_home,
        api_at(throttled.url, fresh_address()) as guesser,
    ):
        account = await at_home.sign_up("FREELANCER")
        codes = [_code(await _log_in(guesser, account.email, f"guess {n}")) for n in range(10)]
        assert codes == ["INVALID_CREDENTIALS"] * 5 + ["RATE_LIMITED"] * 5
        # The guesser waits even with the right password; the owner does not wait at all.
        assert _code(await _log_in(guesser, account.email, PASSWORD)) == "RATE_LIMITED"
        assert _code(await _log_in(at_home, account.email, PASSWORD)) == "OK"


async def test_a_forged_forwarded_for_does_not_make_a_new_client(throttled: Throttled) -> None:
    address = fresh_address()
    async with api_at(throttled.url, address) as api:
        account = await api.sign_up("CLIENT")
    for n in range(6):
        # Each time another address written on the left; the proxy's entry is the same.
        async with api_at(throttled.url, f"192.0.2.{n}, {address}") as forger:
            code = _code(await _log_in(forger, account.email, "not it"))
    assert code == "RATE_LIMITED"


async def test_without_a_trusted_proxy_forwarded_for_is_ignored(api: Api) -> None:
    # The suite's server trusts no proxy: every request is its peer's, 127.0.0.1.
    account = await api.sign_up("CLIENT")
    for n in range(5):
        api.client.headers["X-Forwarded-For"] = f"192.0.2.{n}"
        assert _code(await _log_in(api, account.email, "not it")) == "INVALID_CREDENTIALS"
    api.client.headers["X-Forwarded-For"] = "192.0.2.99"
    assert _code(await _log_in(api, account.email, PASSWORD)) == "RATE_LIMITED"


async def test_the_wait_rises_with_each_failure_and_a_success_clears_it(
    throttled: Throttled,
) -> None:
    async with api_at(throttled.url, fresh_address()) as api:
        first, second = await api.sign_up("CLIENT"), await api.sign_up("CLIENT")
        for _ in range(5):
            assert _code(await _log_in(api, first.email, "typo")) == "INVALID_CREDENTIALS"
        body = await _log_in(api, first.email, PASSWORD)
        assert body["errors"][0]["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 1}
        # Once the wait is over, the next typo is checked, and counted, again.
        typed = await _until_checked(api, first.email, within=15)
        body = await _log_in(api, first.email, PASSWORD)
        extensions = body["errors"][0]["extensions"]
        # The wait rose to 2 s: 2 are left right after the typo (1, were this client so
        # slow that a second passed in between).
        assert extensions["code"] == "RATE_LIMITED"
        assert extensions["retryAfter"] == 2 or time.monotonic() - typed >= 1, extensions

    async with api_at(throttled.url, fresh_address()) as api:
        # Four typos, then the right password: the next four typos start from nothing.
        for _ in range(4):
            assert _code(await _log_in(api, second.email, "typo")) == "INVALID_CREDENTIALS"
        assert _code(await _log_in(api, second.email, PASSWORD)) == "OK"
        for _ in range(4):
            assert _code(await _log_in(api, second.email, "typo")) == "INVALID_CREDENTIALS"


async def _until_checked(api: Api, email: str, within: float) -> float:
    """Send a typo every 0.1 s until one is checked rather than refused for the wait;
    returns when that one was sent."""
    deadline = time.monotonic() + within
    while True:
        sent = time.monotonic()
        code = _code(await _log_in(api, email, "typo"))
        if code == "INVALID_CREDENTIALS":
            return sent
        assert code == "RATE_LIMITED" and time.monotonic() < deadline, code
        await asyncio.sleep(0.1)


async def test_a_chat_burst_is_cut_off_while_a_normal_pace_passes(throttled: Throttled) -> None:
    async with api_at(throttled.url, fresh_address()) as api:
        team = await make_team_with(api, throttled.admin)
        burst = [{"projectId": team.project_id, "body": f"spam {n}"} for n in range(8)]
        body = await api.post(
            *aliased("sendChatMessage", burst, "message { id }"), team.client.token
        )
        ran, refused = outcomes(body, 8)
        assert len(ran) == 5 and all(e["retryAfter"] == 1 for e in refused)
        for n in range(6):  # more than the burst, at a typist's pace
            await asyncio.sleep(0.3)
            variables = {"input": {"projectId": team.project_id, "body": f"hello {n}"}}
            assert (await api.data(SEND, variables, team.freelancer.token))["sendChatMessage"]


async def test_aliased_milestones_past_the_budget_queue_no_email(throttled: Throttled) -> None:
    async with api_at(throttled.url, fresh_address()) as api:
        team = await make_team_with(api, throttled.admin)
        project = pk(team.project_id)
        before = await queued_emails(throttled.database_url, project)
        adds = [
            {"projectId": team.project_id, "title": f"Step {n}", "dueDate": future(5)}
            for n in range(6)
        ]
        body = await api.post(
            *aliased("addMilestone", adds, "milestone { id }"), team.freelancer.token
        )
        ran, refused = outcomes(body, 6)
        assert len(ran) == 3 and len(refused) == 3
        assert await queued_emails(throttled.database_url, project) == before + 3
        # The same budget covers every milestone change.
        edit = {"id": ran[0]["milestone"]["id"], "title": "Renamed"}
        body = await api.post(
            *aliased("editMilestone", [edit], "milestone { id }"), team.freelancer.token
        )
        assert outcomes(body, 1)[1][0]["code"] == "RATE_LIMITED"


async def test_sign_ups_and_projects_are_budgeted(throttled: Throttled) -> None:
    people = [
        {
            "email": f"new-{uuid.uuid4().hex[:8]}@example.com",
            "password": PASSWORD,
            "name": "New",
            "role": "CLIENT",
        }
        for _ in range(6)
    ]
    async with api_at(throttled.url, fresh_address()) as api:
        ran, _ = outcomes(await api.post(*aliased("signUp", people, "token")), 6)
        assert len(ran) == 4
    async with api_at(throttled.url, fresh_address()) as api:
        team = await make_team_with(api, throttled.admin)  # its client made one project
        project = {
            "title": "More",
            "freelancerId": team.freelancer.id,
            "completionDate": future(40),
        }
        body = await api.post(
            *aliased("createProject", [project] * 3, "project { id }"), team.client.token
        )
        ran, refused = outcomes(body, 3)
        assert len(ran) == 1 and len(refused) == 2


async def test_processes_sharing_redis_add_up_attempts_and_a_restart_forgets_none(
    postgres_url: str, reachable_redis: str, tmp_path: Path
) -> None:
    env = TRUSTING | rate_limits(log_in_address_failures_burst="5/600")
    sprayer, guesser = fresh_address(), fresh_address()
    async with server_process(postgres_url, reachable_redis, tmp_path, "a", env) as url_a:
        async with server_process(postgres_url, reachable_redis, tmp_path, "b", env) as url_b:
            async with api_at(url_a, fresh_address()) as api:
                accounts = [await api.sign_up("CLIENT") for _ in range(6)]
            async with contextlib.AsyncExitStack() as stack:
                a, b, ga, gb = [
                    await stack.enter_async_context(api_at(url, who))
                    for who in (sprayer, guesser)
                    for url in (url_a, url_b)
                ]
                # Five failures over five accounts, three on A and two on B, fill the budget.
                for api, account in zip([a, a, a, b, b], accounts, strict=False):
                    assert _code(await _log_in(api, account.email, "x")) == "INVALID_CREDENTIALS"
                assert _code(await _log_in(b, accounts[5].email, "x")) == "RATE_LIMITED"
                assert _code(await _log_in(a, accounts[5].email, "x")) == "RATE_LIMITED"
                # One account from one address: its five free failures are shared too.
                for api in (ga, gb, ga, gb, ga):
                    assert (
                        _code(await _log_in(api, accounts[0].email, "x")) == "INVALID_CREDENTIALS"
                    )
                assert _code(await _log_in(gb, accounts[0].email, PASSWORD)) == "RATE_LIMITED"
    # Both processes gone; a new one remembers.
    async with (
        server_process(postgres_url, reachable_redis, tmp_path, "c", env) as url_c,
        api_at(url_c, sprayer) as c,
    ):
        assert _code(await _log_in(c, accounts[5].email, "x")) == "RATE_LIMITED"
