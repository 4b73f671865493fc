"""The operator's commands, run as an operator would: `python server.py ...` in a shell."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support import PASSWORD
from tests.support_processes import serving

ROOT = Path(__file__).resolve().parent.parent


def run(
    args: list[str], env: dict[str, str], cwd: Path, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "server.py"), *args],
        env=env,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "SMTP_"))}
    return env | {"MAIL_DIR": str(tmp_path / "mail"), "MAIL_WORKER": "0"} | extra


@pytest.mark.long
def test_create_admin_then_serve_on_the_default_database(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    made = run(
        ["create-admin", "--email", "Root@Example.com", "--password", PASSWORD, "--name", "Root"],
        env,
        tmp_path,
    )
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "db.sqlite3").exists()  # the default: a SQLite file in the working dir
    again = run(
        ["create-admin", "--email", "root@example.com", "--password", PASSWORD, "--name", "R"],
        env,
        tmp_path,
    )
    assert again.returncode != 0 and "already in use" in again.stderr

    with serving(env, tmp_path) as url:
        login = httpx.post(
            f"{url}/graphql",
            json={
                "query": "mutation($i: LogInInput!) { logIn(input: $i) { user { role } } }",
                "variables": {"i": {"email": "root@example.com", "password": PASSWORD}},
            },
        ).json()
        assert login["data"]["logIn"]["user"]["role"] == "ADMIN"
        page = httpx.get(f"{url}/graphql", headers={"Accept": "text/html"})
        assert "graphiql" in page.text.lower()


def test_graphiql_can_be_turned_off(tmp_path: Path) -> None:
    env = env_for(tmp_path, GRAPHIQL="0", DATABASE_URL=f"sqlite://{tmp_path / 'other.sqlite3'}")
    with serving(env, tmp_path) as url:
        page = httpx.get(f"{url}/graphql", headers={"Accept": "text/html"})
        assert "graphiql" not in page.text.lower()
        assert "text/html" not in page.headers.get("content-type", "")
        # The control: the endpoint itself is up and answers; only the page is off.
        answer = httpx.post(f"{url}/graphql", json={"query": "{ __typename }"}).json()
        assert answer == {"data": {"__typename": "Query"}}
