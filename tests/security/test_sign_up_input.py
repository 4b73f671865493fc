"""Sign-up input: addresses that can never be mailed, the most common passwords, and
passwords with nothing visible in them are refused, with a user error naming the field.

The old address check was one regular expression (an @, a dot after it): `a,b@example.com`
and `a<b>@example.com` signed up, and every e-mail to them failed for good. Passwords were
only checked for length: `password`, `12345678` or eight zero-width spaces were accepted.
Through signUp over HTTP, against the shared test server; nothing is created on a refusal.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from models import User
from tests.support import PASSWORD, Api
from tests.test_cli import env_for, run

SIGN_UP = """mutation($input: SignUpInput!) { signUp(input: $input) {
  errors { code field message } token user { id email } } }"""


def sign_up(email: str, password: str = PASSWORD) -> dict[str, dict[str, str]]:
    return {"input": {"email": email, "password": password, "name": "Ada", "role": "CLIENT"}}


def unique(local: str, domain: str = "example.com") -> str:
    return f"{local}{uuid.uuid4().hex[:8]}@{domain}"


@pytest.mark.parametrize(
    "email",
    [
        unique("a,b"),
        unique("a<b>"),
        f"<{unique('a')}>",
        unique("a..b"),
        unique("a", "example..com"),
        unique("a", "-example.com"),
        unique('"a b"'),
        unique("jos\u00e9"),  # a non-ASCII local part: this server cannot send to it
        unique("a", "milestones.invalid"),  # special-use: no mail is ever delivered there
        unique("a", "[127.0.0.1]"),
    ],
    # Fixed names: every parallel worker must collect the same test ids, and these
    # addresses are new on each collection.
    ids=[
        "comma",
        "angle-brackets",
        "bracketed-address",
        "two-dots",
        "two-dots-in-domain",
        "domain-starts-with-hyphen",
        "quoted-space",
        "non-ascii",
        "special-use-domain",
        "address-literal",
    ],
)
async def test_addresses_that_cannot_be_mailed_are_refused(api: Api, email: str) -> None:
    payload = (await api.data(SIGN_UP, sign_up(email)))["signUp"]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID", ["email"])]
    assert payload["errors"][0]["message"].startswith("E-mail is not a valid address")
    assert payload["token"] is None
    assert not await User.filter(email=email.lower()).exists()


async def test_addresses_are_normalized_as_before(api: Api) -> None:
    local = f"Ada.Lovelace+{uuid.uuid4().hex[:8]}"
    payload = (await api.data(SIGN_UP, sign_up(f"  {local}@Example.COM ")))["signUp"]
    assert payload["errors"] == []
    assert payload["user"]["email"] == f"{local.lower()}@example.com"
    # The same address, written otherwise, is taken.
    again = (await api.data(SIGN_UP, sign_up(f"{local.upper()}@EXAMPLE.com")))["signUp"]
    assert [(e["code"], e["field"]) for e in again["errors"]] == [("TAKEN", ["email"])]
    # Reserved test names (RFC 6761 .test) stay usable, as example.com is.
    test_name = (await api.data(SIGN_UP, sign_up(unique("bench", "example.test"))))["signUp"]
    assert test_name["errors"] == []


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("password", "INVALID"),
        ("12345678", "INVALID"),
        ("Password1", "INVALID"),  # the list is compared without regard to case
        ("iloveyou", "INVALID"),
        ("\u200b" * 10, "BLANK"),  # zero-width spaces
        ("\u2060\ufeff\u200c\u200d" * 3, "BLANK"),  # joiners and word joiners
        ("\x01\x02\x03\x04\x05\x06\x07\x08", "BLANK"),  # control characters
        ("\u3164" * 8, "BLANK"),  # Hangul filler: a letter that draws nothing
        (" \t\u00a0\u2003" * 3, "BLANK"),  # whitespace of every kind
    ],
)
async def test_common_and_invisible_passwords_are_refused(
    api: Api, password: str, code: str
) -> None:
    email = unique("pw")
    payload = (await api.data(SIGN_UP, sign_up(email, password)))["signUp"]
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == (code, ["password"])
    assert error["message"].startswith("Password")
    assert payload["token"] is None
    assert not await User.filter(email=email).exists()


@pytest.mark.parametrize(
    "password", [PASSWORD, "fay password", "carl password", "admin password", "bench password 1"]
)
async def test_the_walk_through_passwords_are_accepted(api: Api, password: str) -> None:
    payload = (await api.data(SIGN_UP, sign_up(unique("ok"), password)))["signUp"]
    assert payload["errors"] == [] and payload["token"]


@pytest.mark.long
def test_create_admin_applies_the_same_rules(tmp_path: Path) -> None:
    env = env_for(tmp_path, DATABASE_URL=f"sqlite://{tmp_path / 'admin.sqlite3'}")
    for email, password, message in (
        ("a,b@example.com", PASSWORD, "E-mail is not a valid address"),
        ("root@example.com", "password1", "one of the most common passwords"),
        ("root@example.com", "\u200b" * 12, "invisible characters"),
    ):
        made = run(
            ["create-admin", "--email", email, "--name", "Root", "--password-stdin"],
            env,
            tmp_path,
            stdin=f"{password}\n",
        )
        assert made.returncode == 1 and message in made.stderr, made.stderr
