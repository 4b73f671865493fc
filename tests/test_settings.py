"""Settings from the environment: the documented defaults, and one clear error per bad value."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from settings import DEFAULT_MAIL_FROM, SettingError, Settings
from tests.support import free_port

ROOT = Path(__file__).resolve().parent.parent


def test_a_clean_environment_gives_the_documented_defaults() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.database_url == "sqlite://db.sqlite3"
    assert settings.redis_url == ""
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_tls) == ("", 25, "none")
    assert (settings.smtp_username, settings.smtp_password) == ("", "")
    assert settings.smtp_timeout_seconds == 30
    assert settings.mail_from == DEFAULT_MAIL_FROM
    assert settings.mail_dir == Path("mail")
    assert settings.milestone_reminder_delay_seconds == 172800
    assert settings.graphiql is True
    assert settings.allowed_origins == ()
    assert settings.run_mail_worker is True
    assert settings.mail_poll_seconds == 1
    assert settings.mail_retry_base_seconds == 5
    assert settings.mail_retry_max_seconds == 300
    assert settings.mail_max_rejected_attempts == 3
    assert settings.mail_lease_seconds == 10
    assert settings.mail_batch_size == 50
    assert settings.milestone_reminder_check_seconds == 60
    assert (settings.token_idle_days, settings.token_max_days) == (30, 90)
    assert settings.public_url == ""
    assert (settings.mail_batch_quiet_seconds, settings.mail_batch_max_seconds) == (180, 600)
    assert settings.daily_digest_time == dt.time(8, 0)


def test_blank_variables_count_as_unset() -> None:
    assert Settings.from_env({"DATABASE_URL": " ", "SMTP_PORT": "", "GRAPHIQL": ""}) == Settings()


@pytest.mark.parametrize(("tls", "port"), [("none", 25), ("STARTTLS", 587), ("tls", 465)])
def test_the_smtp_port_follows_the_tls_mode_unless_set(tls: str, port: int) -> None:
    assert Settings.from_env({"SMTP_TLS": tls}).smtp_port == port
    assert Settings.from_env({"SMTP_TLS": tls, "SMTP_PORT": "2525"}).smtp_port == 2525


def test_each_kind_of_value_is_read() -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": " postgres://u@h/db ",
            "SMTP_PASSWORD": " pass word ",
            "SMTP_TIMEOUT_SECONDS": "2.5",
            "MAIL_DIR": "/var/mail/out",
            "MILESTONE_REMINDER_DELAY_SECONDS": "0",
            "GRAPHIQL": "0",
            "MAIL_WORKER": "off",
            "ALLOWED_ORIGINS": "https://a.example, ,https://b.example",
            "MAIL_BATCH_SIZE": "7",
            "TOKEN_IDLE_DAYS": "0.5",
            "PUBLIC_URL": "https://api.example.com/",
            "DAILY_DIGEST_TIME": "07:30",
            "MAIL_BATCH_QUIET_SECONDS": "60",
        }
    )
    assert settings.database_url == "postgres://u@h/db"
    assert settings.smtp_password == " pass word "  # a password keeps its spaces
    assert settings.smtp_timeout_seconds == 2.5
    assert settings.mail_dir == Path("/var/mail/out")
    assert settings.milestone_reminder_delay_seconds == 0
    assert (settings.graphiql, settings.run_mail_worker) == (False, False)
    assert settings.allowed_origins == ("https://a.example", "https://b.example")
    assert settings.mail_batch_size == 7
    assert settings.token_idle_days == 0.5  # fractions of a day: twelve hours
    assert settings.public_url == "https://api.example.com"  # links append their own path
    assert settings.daily_digest_time == dt.time(7, 30)
    assert settings.mail_batch_quiet_seconds == 60


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SMTP_PORT", "abc", "SMTP_PORT must be a whole number from 1 to 65535, got 'abc'"),
        ("SMTP_PORT", "0", "SMTP_PORT must be a whole number from 1 to 65535, got '0'"),
        ("SMTP_PORT", "70000", "SMTP_PORT must be a whole number from 1 to 65535, got '70000'"),
        ("MAIL_BATCH_SIZE", "-5", "MAIL_BATCH_SIZE must be a whole number of at least 1, got '-5'"),
        (
            "MAIL_MAX_REJECTED_ATTEMPTS",
            "2.5",
            "MAIL_MAX_REJECTED_ATTEMPTS must be a whole number of at least 1, got '2.5'",
        ),
        (
            "MAIL_POLL_SECONDS",
            "x",
            "MAIL_POLL_SECONDS must be a number of seconds above 0, got 'x'",
        ),
        (
            "SMTP_TIMEOUT_SECONDS",
            "0",
            "SMTP_TIMEOUT_SECONDS must be a number of seconds above 0, got '0'",
        ),
        (
            "MAIL_LEASE_SECONDS",
            "inf",
            "MAIL_LEASE_SECONDS must be a number of seconds above 0, got 'inf'",
        ),
        (
            "MILESTONE_REMINDER_DELAY_SECONDS",
            "-1",
            "MILESTONE_REMINDER_DELAY_SECONDS must be a number of seconds, 0 or more, got '-1'",
        ),
        ("SMTP_TLS", "foo", "SMTP_TLS must be one of none, starttls, tls, got 'foo'"),
        (
            "TOKEN_IDLE_DAYS",
            "0",
            "TOKEN_IDLE_DAYS must be a number of days above 0, at most 3650, got '0'",
        ),
        (
            "TOKEN_MAX_DAYS",
            "nan",
            "TOKEN_MAX_DAYS must be a number of days above 0, at most 3650, got 'nan'",
        ),
        (
            "PUBLIC_URL",
            "api.example.com",
            "PUBLIC_URL must be an http(s) URL such as https://api.example.com, "
            "got 'api.example.com'",
        ),
        (
            "DAILY_DIGEST_TIME",
            "8",
            "DAILY_DIGEST_TIME must be a time of day as HH:MM (or HH:MM:SS), e.g. 08:00, got '8'",
        ),
        (
            "GRAPHIQL",
            "maybe",
            "GRAPHIQL must be 1 or 0 (or true/false, yes/no, on/off), got 'maybe'",
        ),
    ],
)
def test_a_malformed_value_names_the_variable_and_what_it_expects(
    name: str, value: str, message: str
) -> None:
    with pytest.raises(SettingError) as raised:
        Settings.from_env({name: value})
    assert str(raised.value) == message


def test_the_server_refuses_a_malformed_setting_in_one_line(tmp_path: Path) -> None:
    env = os.environ | {"SMTP_PORT": "abc", "MAIL_DIR": str(tmp_path / "mail")}
    done = subprocess.run(
        [sys.executable, "server.py", "--port", str(free_port())],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,  # a server that started serving would hold the test until this
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: SMTP_PORT must be a whole number from 1 to 65535, got 'abc'"
    ]
    assert "Traceback" not in done.stderr + done.stdout
