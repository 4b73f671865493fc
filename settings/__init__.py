"""Runtime settings, read once from the environment (see the operating contract).

Each setting is one field of `Settings`: its default, the variable that overrides it and
the kind of value that variable holds are written there and nowhere else. An unset or
blank variable leaves the default. A malformed one raises `SettingError` naming the
variable and what it expects, so a typo stops the server at start instead of surfacing
later as a worker that never retries or a port that cannot be opened.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from settings.kinds import (
    DAY_COUNTS,
    FLAG,
    INTROSPECTION,
    NAMES,
    NETWORKS,
    PATH,
    PORT,
    PUBLIC_URL,
    RATES,
    SECRET,
    TIME_OF_DAY,
    Network,
    days,
    env,
    one_of,
    seconds,
    whole,
)

__all__ = ["DEFAULT_MAIL_FROM", "SMTP_PORTS", "Network", "SettingError", "Settings"]

DEFAULT_MAIL_FROM = "Milestones <no-reply@milestones.invalid>"

# The usual port of each SMTP_TLS mode; SMTP_PORT, when unset, follows the mode.
SMTP_PORTS = {"none": 25, "starttls": 587, "tls": 465}


class SettingError(ValueError):
    """An environment variable holds a value the server cannot use."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the server reads from its environment, with the contract's defaults."""

    database_url: str = field(default="sqlite://db.sqlite3", metadata=env("DATABASE_URL"))
    redis_url: str = field(default="", metadata=env("REDIS_URL"))
    # Signs global IDs; unset: a random key the server keeps in its database (schema/ids.py).
    id_secret: str = field(default="", metadata=env("ID_SECRET", SECRET))
    smtp_host: str = field(default="", metadata=env("SMTP_HOST"))
    smtp_port: int = field(default=SMTP_PORTS["none"], metadata=env("SMTP_PORT", PORT))
    smtp_username: str = field(default="", metadata=env("SMTP_USERNAME"))
    smtp_password: str = field(default="", metadata=env("SMTP_PASSWORD", SECRET))
    smtp_tls: str = field(default="none", metadata=env("SMTP_TLS", one_of(*SMTP_PORTS)))
    smtp_timeout_seconds: float = field(
        default=30.0, metadata=env("SMTP_TIMEOUT_SECONDS", seconds(zero=False))
    )
    mail_from: str = field(default=DEFAULT_MAIL_FROM, metadata=env("MAIL_FROM"))
    mail_dir: Path = field(default=Path("mail"), metadata=env("MAIL_DIR", PATH))
    milestone_reminder_delay_seconds: float = field(
        default=172800.0, metadata=env("MILESTONE_REMINDER_DELAY_SECONDS", seconds(zero=True))
    )
    # Due-soon e-mails this many days before a due date; overdue ones repeat every so many
    # days; both at this hour in the project's time zone (services/deadline_reminders.py).
    milestone_due_soon_days: tuple[int, ...] = field(
        default=(3, 1), metadata=env("MILESTONE_DUE_SOON_DAYS", DAY_COUNTS)
    )
    milestone_overdue_repeat_days: int = field(
        default=7, metadata=env("MILESTONE_OVERDUE_REPEAT_DAYS", whole(1, 365))
    )
    reminder_hour: int = field(default=9, metadata=env("REMINDER_HOUR", whole(0, 23)))
    # A completed milestone the client neither accepted nor sent back is accepted this many
    # days after its completion, so a silent client cannot hold the work hostage; 0: never
    # (services/acceptance.py).
    milestone_auto_accept_days: int = field(
        default=14, metadata=env("MILESTONE_AUTO_ACCEPT_DAYS", whole(0, 3650))
    )
    # Tests only: a file holding seconds added to the clock of due dates (infra/clock.py).
    clock_offset_file: str = field(default="", metadata=env("CLOCK_OFFSET_FILE"))
    graphiql: bool = field(default=True, metadata=env("GRAPHIQL", FLAG))
    # The reference collaboration page at GET / (web/app_page.py).
    app: bool = field(default=True, metadata=env("APP", FLAG))
    # auto: on while GraphiQL is served, else for signed-in callers only (schema/visibility.py).
    introspection: str = field(default="auto", metadata=env("INTROSPECTION", INTROSPECTION))
    # Larger request bodies get 413 before they are read (web/body_limit.py).
    max_body_bytes: int = field(default=1024 * 1024, metadata=env("MAX_BODY_BYTES", whole(1024)))
    # An operation whose answer grows past this is stopped with RESPONSE_TOO_LARGE; at least
    # 64 KiB, so that no ordinary page is ever refused (schema/response_budget.py).
    max_response_bytes: int = field(
        default=8 * 1024 * 1024, metadata=env("MAX_RESPONSE_BYTES", whole(64 * 1024))
    )
    # An HTTP operation still running after this is stopped with TIMEOUT (web/graphql_guards.py).
    request_timeout_seconds: float = field(
        default=10.0, metadata=env("REQUEST_TIMEOUT_SECONDS", seconds(zero=False))
    )
    # A connection must have sent its whole request head within this; one whose response
    # has waited this long for the client to read is aborted (web/http_protocol.py).
    header_timeout_seconds: float = field(
        default=10.0, metadata=env("HEADER_TIMEOUT_SECONDS", seconds(zero=False))
    )
    write_timeout_seconds: float = field(
        default=30.0, metadata=env("WRITE_TIMEOUT_SECONDS", seconds(zero=False))
    )
    # Open WebSockets per client address in each process; more are refused with 429
    # (web/socket_cap.py).
    max_sockets_per_address: int = field(
        default=10_000, metadata=env("MAX_SOCKETS_PER_ADDRESS", whole(1))
    )
    # Chat event batches a subscriber may have waiting before it is cut off as too slow
    # reading (infra/feeds.py).
    chat_queue_size: int = field(default=256, metadata=env("CHAT_QUEUE_SIZE", whole(1)))
    allowed_origins: tuple[str, ...] = field(default=(), metadata=env("ALLOWED_ORIGINS", NAMES))
    # The documents automatic persisted queries keep per process (web/persisted_queries.py).
    persisted_queries_max_entries: int = field(
        default=1000, metadata=env("PERSISTED_QUERIES_MAX_ENTRIES", whole(0))
    )
    persisted_queries_max_bytes: int = field(
        default=4 * 1024 * 1024, metadata=env("PERSISTED_QUERIES_MAX_BYTES", whole(0))
    )
    # A session token expires after this many days unused, and this many after it was
    # issued whatever its use (infra/token_lifetime.py). At most ten years: always expires.
    token_idle_days: float = field(default=30.0, metadata=env("TOKEN_IDLE_DAYS", days(3650)))
    token_max_days: float = field(default=90.0, metadata=env("TOKEN_MAX_DAYS", days(3650)))
    # The reverse proxies whose X-Forwarded-For names the client (web/client_address.py).
    trusted_proxies: tuple[Network, ...] = field(
        default=(), metadata=env("TRUSTED_PROXIES", NETWORKS)
    )
    # Named rate-limit windows resized by the operator (services/throttles.py lists them).
    rate_limits: tuple[tuple[str, int, int], ...] = field(
        default=(), metadata=env("RATE_LIMITS", RATES)
    )
    # The server's base URL as users reach it, for links in e-mails and calendar feed URLs;
    # unset: e-mails carry no links, no unsubscribe link or List-Unsubscribe header rather
    # than a wrong one, and feed URLs are relative (the operations contract).
    public_url: str = field(default="", metadata=env("PUBLIC_URL", PUBLIC_URL))
    # Batched milestone e-mails (services/batches.py): sent once no change came for the
    # quiet time, or this long after the batch's first change, whichever is first.
    mail_batch_quiet_seconds: float = field(
        default=180.0, metadata=env("MAIL_BATCH_QUIET_SECONDS", seconds(zero=True))
    )
    mail_batch_max_seconds: float = field(
        default=600.0, metadata=env("MAIL_BATCH_MAX_SECONDS", seconds(zero=True))
    )
    # The local time (each user's time zone) at which daily digests go out.
    daily_digest_time: dt.time = field(
        default=dt.time(8, 0), metadata=env("DAILY_DIGEST_TIME", TIME_OF_DAY)
    )
    run_mail_worker: bool = field(default=True, metadata=env("MAIL_WORKER", FLAG))
    # Delivery worker tuning (docs/mail.md); tests shrink these to run fast.
    mail_poll_seconds: float = field(
        default=1.0, metadata=env("MAIL_POLL_SECONDS", seconds(zero=False))
    )
    mail_retry_base_seconds: float = field(
        default=5.0, metadata=env("MAIL_RETRY_BASE_SECONDS", seconds(zero=False))
    )
    mail_retry_max_seconds: float = field(
        default=300.0, metadata=env("MAIL_RETRY_MAX_SECONDS", seconds(zero=False))
    )
    mail_max_rejected_attempts: int = field(
        default=3, metadata=env("MAIL_MAX_REJECTED_ATTEMPTS", whole(1))
    )
    # A claim on an e-mail lasts this long, renewed while the send goes on: the e-mail of a
    # worker that died is free again this long after its last renewal (infra/mail_lease.py).
    mail_lease_seconds: float = field(
        default=10.0, metadata=env("MAIL_LEASE_SECONDS", seconds(zero=False))
    )
    mail_batch_size: int = field(default=50, metadata=env("MAIL_BATCH_SIZE", whole(1)))
    # On shutdown the worker finishes the e-mail in hand for up to this long before it is
    # cancelled (a cancelled send hands its e-mail back, to be resent with the same
    # Message-ID): the supervisor's stop timeout must allow for it (docs/operations.md).
    mail_stop_grace_seconds: float = field(
        default=10.0, metadata=env("MAIL_STOP_GRACE_SECONDS", seconds(zero=True))
    )
    # The longest a worker goes without looking for projects unlocked by any process; it
    # looks more often when the reminder delay is short (services/reminders.py).
    milestone_reminder_check_seconds: float = field(
        default=60.0, metadata=env("MILESTONE_REMINDER_CHECK_SECONDS", seconds(zero=False))
    )

    # Observability (docs/operations.md): how the process logs, whether GET /metrics is
    # served (never by default: it tells outsiders about the traffic), OpenTelemetry spans.
    log_format: str = field(default="text", metadata=env("LOG_FORMAT", one_of("text", "json")))
    metrics: bool = field(default=False, metadata=env("METRICS", FLAG))
    tracing: bool = field(default=False, metadata=env("TRACING", FLAG))
    # 0: every fast path resting on frameworks' unpublished parts off (frameworks/), as
    # when the installed versions are not the tested ones; the public paths serve.
    fast_paths: bool = field(default=True, metadata=env("FAST_PATHS", FLAG))
    # After SIGTERM, keep serving this long with /readyz at 503 (infra/shutdown.py).
    shutdown_delay_seconds: float = field(
        default=0.0, metadata=env("SHUTDOWN_DELAY_SECONDS", seconds(zero=True))
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings `environ` (the process environment by default) asks for.

        Raises SettingError for the first variable that holds a malformed value.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for setting in dataclasses.fields(cls):
            name, kind = setting.metadata["env"], setting.metadata["kind"]
            text = environ.get(name, "")
            if kind.strip:
                text = text.strip()
            if not text:
                continue  # unset or blank: the field's default
            try:
                values[setting.name] = kind.convert(text)
            except ValueError:
                raise SettingError(f"{name} must be {kind.expected}, got {text!r}") from None
        settings = cls(**values)
        if "smtp_port" not in values:
            settings = dataclasses.replace(settings, smtp_port=SMTP_PORTS[settings.smtp_tls])
        return settings
