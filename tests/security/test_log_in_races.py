"""Log-in throttles under parallel guesses, and the office behind one address.

The probes replayed (second round): 300 parallel guesses at one account from one address
were all checked against the password, one of them right, because the throttles were
looked at before the password hash and counted after it; and after 20 failed log-ins from
an address, the right password of everyone behind it was refused too. Now every log-in
takes its unit from each window before the hash, all at once or not at all (refunded if
the password was right), in memory and in Redis; and an account that has signed in from
an address is not held up by that address's failures.

Checked guesses are counted from outside: every answer that is not RATE_LIMITED was
checked against a password (a wrong one answers INVALID_CREDENTIALS, the right one a
token). Each probe runs on one process counting in memory and, with TEST_REDIS_URL and
TEST_DATABASE_URL, on two processes sharing one Redis, the guesses alternating between
them. The first rising wait is stretched to ten minutes (RATE_LIMITS), so that no guess
is let through because a burst took longer than its one second.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.security.support_throttles import TRUSTING, api_at, fresh_address, rate_limits
from tests.support import PASSWORD, Account, Api, fresh_postgres_database
from tests.support_processes import server_process

LOG_IN = "mutation($input: LogInInput!) { logIn(input: $input) { errors { code } token } }"
BURST = 200
FREE = 5  # RisingDelay.free: failures of one account from one address before any wait
ADDRESS_FAILURES = 10  # log_in_address_failures_burst, shrunk
ACCOUNT_FAILURES = 20  # log_in_account_failures, shrunk
ENV = TRUSTING | rate_limits(
    log_in_address_failures_burst=f"{ADDRESS_FAILURES}/600",
    log_in_account_failures=f"{ACCOUNT_FAILURES}/600",
    log_in_rising_wait=f"{FREE}/600",
)


@dataclass
class Servers:
    urls: list[str]


@pytest.fixture(scope="module", params=["memory", "redis"])
async def servers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Servers]:
    tmp = tmp_path_factory.mktemp(f"races-{request.param}")
    if request.param == "memory":
        database = f"sqlite://{tmp / 'races.sqlite3'}"
        async with server_process(database, "", tmp, "races", ENV) as url:
            yield Servers([url])
        return
    redis_url, admin_url = os.environ.get("TEST_REDIS_URL"), os.environ.get("TEST_DATABASE_URL")
    if not (redis_url and admin_url):
        pytest.skip("two processes need TEST_REDIS_URL and TEST_DATABASE_URL")
    async with contextlib.AsyncExitStack() as stack:
        database = await stack.enter_async_context(fresh_postgres_database(admin_url))
        urls = [
            await stack.enter_async_context(server_process(database, redis_url, tmp, name, ENV))
            for name in ("a", "b")
        ]
        yield Servers(urls)


async def _log_in(api: Api, email: str, password: str) -> str:
    """INVALID_CREDENTIALS, RATE_LIMITED or OK."""
    body: dict[str, Any] = await api.post(LOG_IN, {"input": {"email": email, "password": password}})
    if body.get("errors"):
        return str(body["errors"][0]["extensions"]["code"])
    payload = body["data"]["logIn"]
    return str(payload["errors"][0]["code"]) if payload["errors"] else "OK"


async def _burst(servers: Servers, address: str, guesses: list[tuple[str, str]]) -> list[str]:
    """Every guess at once from `address`, alternating between the servers: their codes."""
    async with contextlib.AsyncExitStack() as stack:
        apis = [
            await stack.enter_async_context(api_at(url, address, connections=len(guesses)))
            for url in servers.urls
        ]
        return await asyncio.gather(
            *(
                _log_in(apis[n % len(apis)], email, password)
                for n, (email, password) in enumerate(guesses)
            )
        )


async def _account(servers: Servers) -> Account:
    async with api_at(servers.urls[0], fresh_address()) as api:
        return await api.sign_up("CLIENT")


def _unknown_email() -> str:
    # Accounts that need not exist: an unknown e-mail is checked against a dummy hash, so
    # it costs and counts exactly as a wrong password does.
    return f"sprayed-{uuid.uuid4().hex[:12]}@example.com"


def _checked(codes: list[str], right: int) -> tuple[int, bool]:
    """(how many wrong guesses were checked, whether the right one got a token)."""
    wrong = codes[:right] + codes[right + 1 :]
    assert set(wrong) <= {"INVALID_CREDENTIALS", "RATE_LIMITED"}, set(wrong)
    return wrong.count("INVALID_CREDENTIALS"), codes[right] == "OK"


async def test_parallel_guesses_at_one_account_check_only_the_free_failures(
    servers: Servers,
) -> None:
    account = await _account(servers)
    guesses = [(account.email, f"guess {n}") for n in range(BURST)]
    right = random.randrange(BURST + 1)
    guesses.insert(right, (account.email, PASSWORD))
    checked, signed_in = _checked(await _burst(servers, fresh_address(), guesses), right)
    if signed_in:
        # It was one of the free five: the success clears the count, five more follow.
        assert FREE - 1 <= checked <= 2 * FREE - 1, (checked, right)
    else:
        assert checked == FREE, (checked, right)


async def test_parallel_guesses_across_accounts_check_only_the_address_window(
    servers: Servers,
) -> None:
    # Someone who never signed in from this address: the spray's window holds them too.
    account = await _account(servers)
    guesses = [(_unknown_email(), "Winter2026!") for _ in range(BURST)]
    right = random.randrange(BURST + 1)
    guesses.insert(right, (account.email, PASSWORD))
    checked, signed_in = _checked(await _burst(servers, fresh_address(), guesses), right)
    # A right password gives its unit back, and a wrong guess may take it.
    low = ADDRESS_FAILURES - 1 if signed_in else ADDRESS_FAILURES
    assert low <= checked <= ADDRESS_FAILURES, (checked, right, signed_in)


async def test_a_sprayed_address_still_lets_in_who_signed_in_from_it(servers: Servers) -> None:
    office = fresh_address()
    regular, newcomer = await _account(servers), await _account(servers)
    async with contextlib.AsyncExitStack() as stack:
        apis = [await stack.enter_async_context(api_at(url, office)) for url in servers.urls]
        first, last = apis[0], apis[-1]
        assert await _log_in(first, regular.email, PASSWORD) == "OK"
        # Someone in the office sprays other accounts until the address is refused.
        spray = [
            await _log_in(apis[n % len(apis)], _unknown_email(), "Winter2026!")
            for n in range(ADDRESS_FAILURES + 2)
        ]
        assert spray == ["INVALID_CREDENTIALS"] * ADDRESS_FAILURES + ["RATE_LIMITED"] * 2
        # The regular still gets in, on any process; the spray goes on being refused, and
        # so is the first log-in of someone new here until the window moves on.
        assert await _log_in(last, regular.email, PASSWORD) == "OK"
        assert await _log_in(first, _unknown_email(), "Winter2026!") == "RATE_LIMITED"
        assert await _log_in(last, newcomer.email, PASSWORD) == "RATE_LIMITED"
        # Guessing at the regular's account from here meets its own rising wait.
        typos = [await _log_in(apis[n % len(apis)], regular.email, "typo") for n in range(FREE + 1)]
        assert typos == ["INVALID_CREDENTIALS"] * FREE + ["RATE_LIMITED"]
        assert await _log_in(first, regular.email, PASSWORD) == "RATE_LIMITED"


async def test_a_botnet_spending_an_account_does_not_lock_its_owner_out_at_home(
    servers: Servers,
) -> None:
    home = fresh_address()
    owner = await _account(servers)
    async with contextlib.AsyncExitStack() as stack:
        at_home = [await stack.enter_async_context(api_at(url, home)) for url in servers.urls]
        assert await _log_in(at_home[0], owner.email, PASSWORD) == "OK"
        # Guesses at the account from as many addresses, one each, until its window is spent.
        botnet = [
            await _burst(servers, fresh_address(), [(owner.email, "Winter2026!")])
            for _ in range(ACCOUNT_FAILURES + 2)
        ]
        assert [codes[0] for codes in botnet] == ["INVALID_CREDENTIALS"] * ACCOUNT_FAILURES + [
            "RATE_LIMITED"
        ] * 2
        # Even the right password is refused from an address the owner never used...
        assert (await _burst(servers, fresh_address(), [(owner.email, PASSWORD)])) == [
            "RATE_LIMITED"
        ]
        # ...but at home, on any process, the owner gets in.
        assert await _log_in(at_home[-1], owner.email, PASSWORD) == "OK"
