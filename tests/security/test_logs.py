"""No secret reaches the log or the process list: connection URLs, the new admin's password.

Run as an operator runs it: `python server.py` in a subprocess, its whole output kept.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.support import ROOT, eventually, free_port
from tests.support_processes import api_for, server_env, server_process

SECRET = "s3cr3t-Pa55word"
LOG_IN = "mutation($i: LogInInput!) { logIn(input: $i) { errors { code } token } }"


def the_log(tmp: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(tmp.glob("*.log")))


def with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{parts.hostname}:{parts.port}"))


async def test_the_redis_password_never_reaches_the_log(tmp_path: Path) -> None:
    # Nothing listens there: the server says so, naming the URL it could not reach.
    redis_url = f"redis://:{SECRET}@127.0.0.1:{free_port()}/0"
    async with server_process(f"sqlite://{tmp_path / 'db.sqlite3'}", redis_url, tmp_path):
        pass
    log = the_log(tmp_path)
    assert "Redis at redis://***@127.0.0.1:" in log, log  # the line that used to leak it
    assert SECRET not in log


async def test_a_rejected_redis_password_never_reaches_the_log(
    reachable_redis: str, tmp_path: Path
) -> None:
    # A Redis that answers, and refuses the password: the listener logs every failure.
    redis_url = with_password(reachable_redis, SECRET)
    async with server_process(f"sqlite://{tmp_path / 'db.sqlite3'}", redis_url, tmp_path):
        await eventually(lambda: _logged(tmp_path, "Redis listener lost"), within=30)
    log = the_log(tmp_path)
    assert SECRET not in log


async def _logged(tmp_path: Path, text: str) -> bool:
    return text in the_log(tmp_path)


async def test_the_database_password_never_reaches_the_log(
    postgres_url: str, tmp_path: Path
) -> None:
    database_url = postgres_url
    if urlsplit(database_url).password is None:
        # The test database trusts its clients, so any password opens it.
        database_url = with_password(database_url, SECRET)
    async with server_process(database_url, "", tmp_path) as url, api_for(url) as api:
        await api.data("{ __typename }")
    log = the_log(tmp_path)
    assert "Application startup complete" in log, log
    assert SECRET not in log and (urlsplit(database_url).password or SECRET) not in log


async def create_admin(
    tmp: Path, email: str, *args: str, stdin: str = "", admin_password: str = ""
) -> str:
    """`server.py create-admin` for `email`; returns its output, after checking it succeeded."""
    env = server_env(f"sqlite://{tmp / 'db.sqlite3'}", "", tmp)
    env.pop("ADMIN_PASSWORD", None)
    if admin_password:
        env["ADMIN_PASSWORD"] = admin_password
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "server.py",
        "create-admin",
        "--email",
        email,
        "--name",
        email.split("@")[0].title(),
        *args,
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate(stdin.encode())
    assert process.returncode == 0, output.decode()
    return output.decode()


async def test_create_admin_reads_the_password_from_stdin_or_the_environment(
    tmp_path: Path,
) -> None:
    piped, exported, typed = (f"{way} {uuid.uuid4().hex}" for way in ("piped", "env", "argv"))
    outputs = {
        # --password-stdin wins over ADMIN_PASSWORD.
        ("stdin@example.com", piped): await create_admin(
            tmp_path,
            "stdin@example.com",
            "--password-stdin",
            stdin=f"{piped}\n",
            admin_password="not this one",
        ),
        ("env@example.com", exported): await create_admin(
            tmp_path, "env@example.com", admin_password=exported
        ),
        # Neither flag nor variable: standard input.
        ("piped@example.com", piped): await create_admin(
            tmp_path, "piped@example.com", stdin=f"{piped}\n"
        ),
        # The contract's form still works, and warns.
        ("argv@example.com", typed): await create_admin(
            tmp_path, "argv@example.com", "--password", typed
        ),
    }
    for (email, password), output in outputs.items():
        assert password not in output
        assert ("warning: --password is visible" in output) == email.startswith("argv")

    database = f"sqlite://{tmp_path / 'db.sqlite3'}"
    async with server_process(database, "", tmp_path) as url, api_for(url) as api:
        for email, password in outputs:
            right = await api.data(LOG_IN, {"i": {"email": email, "password": password}})
            assert right["logIn"]["errors"] == [] and right["logIn"]["token"], email
        # The control: the ADMIN_PASSWORD that --password-stdin overrode opens nothing.
        wrong = {"email": "stdin@example.com", "password": "not this one"}
        refused = await api.data(LOG_IN, {"i": wrong})
        assert refused["logIn"]["errors"] == [{"code": "INVALID_CREDENTIALS"}]
