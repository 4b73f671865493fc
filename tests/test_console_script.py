"""The installed `milestones-api` console script, run as an operator would from the venv:
the same commands, arguments and exit statuses as `python server.py`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support import PASSWORD
from tests.support_processes import serving

# Installed by `pip install -e .` beside the interpreter that runs the tests.
SCRIPT = str(Path(sys.executable).parent / "milestones-api")
LOG_IN = "mutation($i: LogInInput!) { logIn(input: $i) { user { role } } }"


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "SMTP_"))}
    return env | {"MAIL_DIR": str(tmp_path / "mail"), "MAIL_WORKER": "0"} | extra


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SCRIPT, *args],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_create_admin_then_serve(tmp_path: Path) -> None:
    env = env_for(tmp_path, ADMIN_PASSWORD=PASSWORD)
    made = run(["create-admin", "--email", "ops@example.com", "--name", "Ops"], env, tmp_path)
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == "created admin ops@example.com"
    assert (tmp_path / "db.sqlite3").exists()  # the default database, in the working directory
    again = run(["create-admin", "--email", "ops@example.com", "--name", "Ops"], env, tmp_path)
    assert again.returncode == 1 and "already in use" in again.stderr

    with serving(env, tmp_path, command=(SCRIPT, "serve")) as url:
        login = httpx.post(
            f"{url}/graphql",
            json={
                "query": LOG_IN,
                "variables": {"i": {"email": "ops@example.com", "password": PASSWORD}},
            },
        ).json()
        assert login == {"data": {"logIn": {"user": {"role": "ADMIN"}}}}


def test_serve_is_the_default_command_and_takes_the_options_before_it(tmp_path: Path) -> None:
    # `milestones-api --port P` as `python server.py --port P` does.
    with serving(env_for(tmp_path), tmp_path, command=(SCRIPT,)) as url:
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}


def test_a_bad_setting_exits_2_and_bad_arguments_too(tmp_path: Path) -> None:
    refused = run(["serve"], env_for(tmp_path, SMTP_PORT="abc"), tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        "error: SMTP_PORT must be a whole number from 1 to 65535, got 'abc'"
    ]
    unknown = run(["create-admin", "--name", "No Email"], env_for(tmp_path), tmp_path)
    assert unknown.returncode == 2 and "--email" in unknown.stderr
    assert unknown.stderr.startswith("usage: milestones-api create-admin")


def test_worker_runs_until_sigterm_then_exits_0(tmp_path: Path) -> None:
    with subprocess.Popen(
        [SCRIPT, "worker"],
        env=env_for(tmp_path),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stderr is not None
        log = ""
        while "mail worker" not in log:
            line = process.stderr.readline()
            assert line, log
            log += line
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert " stopped" in log + process.stderr.read()
