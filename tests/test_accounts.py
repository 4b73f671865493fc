"""Accounts: sign-up, log-in, log-out and what `me` says."""

from __future__ import annotations

import pytest

from models import AccessToken
from tests.support import PASSWORD, Api

SIGN_UP = """mutation($input: SignUpInput!) { signUp(input: $input) {
  errors { code field message } token user { id name role email } } }"""
LOG_IN = """mutation($input: LogInInput!) { logIn(input: $input) {
  errors { code field message } token user { id email } } }"""
ME = "{ me { id name role email } }"


def signup(email: str, **overrides: str) -> dict[str, dict[str, str]]:
    return {
        "input": {"email": email, "password": PASSWORD, "name": "Ada", "role": "CLIENT"} | overrides
    }


async def test_sign_up_signs_in(api: Api) -> None:
    data = await api.data(SIGN_UP, signup("Ada.Lovelace@Example.com"))
    payload = data["signUp"]
    assert payload["errors"] == []
    assert payload["user"]["email"] == "ada.lovelace@example.com"
    me = (await api.data(ME, None, payload["token"]))["me"]
    assert me == payload["user"]
    # Only a hash of the token is stored.
    assert not await AccessToken.filter(token_hash=payload["token"]).exists()


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"email": "not-an-address"}, "INVALID", "email"),
        ({"email": "  "}, "BLANK", "email"),
        ({"password": "short"}, "TOO_SHORT", "password"),
        ({"name": " "}, "BLANK", "name"),
        ({"name": "n" * 121}, "TOO_LONG", "name"),
        ({"role": "ADMIN"}, "INVALID", "role"),
    ],
)
async def test_sign_up_rejects_bad_input(
    api: Api, overrides: dict[str, str], code: str, field: str
) -> None:
    variables = signup(f"bad-{code}-{field}@example.com")
    variables["input"] |= overrides
    payload = (await api.data(SIGN_UP, variables))["signUp"]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, [field])]
    assert payload["token"] is None and payload["user"] is None


async def test_email_is_taken_case_insensitively(api: Api) -> None:
    await api.data(SIGN_UP, signup("taken@example.com"))
    payload = (await api.data(SIGN_UP, signup("TAKEN@example.com", role="FREELANCER")))["signUp"]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("TAKEN", ["email"])]


async def test_log_in_and_out(api: Api) -> None:
    account = await api.sign_up("FREELANCER")
    wrong = (
        await api.data(LOG_IN, {"input": {"email": account.email, "password": "wrong-password"}})
    )["logIn"]
    assert [e["code"] for e in wrong["errors"]] == ["INVALID_CREDENTIALS"]
    unknown = (
        await api.data(LOG_IN, {"input": {"email": "nobody@example.com", "password": PASSWORD}})
    )["logIn"]
    assert unknown["errors"] == wrong["errors"]

    login = (
        await api.data(LOG_IN, {"input": {"email": account.email.upper(), "password": PASSWORD}})
    )["logIn"]
    assert login["errors"] == [] and login["user"]["id"] == account.id
    assert (await api.data(ME, None, login["token"]))["me"]["id"] == account.id
    assert (await api.data("mutation { logOut }", None, login["token"]))["logOut"] is True
    assert (await api.data(ME, None, login["token"]))["me"] is None
    # The other session is still signed in.
    assert (await api.data(ME, None, account.token))["me"]["id"] == account.id


async def test_anonymous_and_bad_tokens(api: Api) -> None:
    assert (await api.data(ME))["me"] is None
    assert (await api.data(ME, None, "forged-token"))["me"] is None
    body = await api.post("{ projects { totalCount } }", None, "forged-token")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_repeated_wrong_passwords_make_the_next_attempt_wait(api: Api) -> None:
    # Five failures are free; the next attempt, even with the right password, waits a
    # second (the rising waits and the other budgets: tests/security/test_throttles.py).
    account = await api.sign_up("CLIENT")
    wrong = {"input": {"email": account.email, "password": "not the password"}}
    for _ in range(5):
        payload = (await api.data(LOG_IN, wrong))["logIn"]
        assert [e["code"] for e in payload["errors"]] == ["INVALID_CREDENTIALS"]
    body = await api.post(LOG_IN, {"input": {"email": account.email, "password": PASSWORD}})
    assert body["data"]["logIn"] is None
    error = body["errors"][0]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 1}
