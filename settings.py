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
import ipaddress
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

DEFAULT_MAIL_FROM = "Milestones <no-reply@milestones.invalid>"

# The usual port of each SMTP_TLS mode; SMTP_PORT, when unset, follows the mode.
SMTP_PORTS = {"none": 25, "starttls": 587, "tls": 465}

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class SettingError(ValueError):
    """An environment variable holds a value the server cannot use."""


@dataclass(frozen=True, slots=True)
class Kind(Generic[T]):
    """How a variable's text becomes a setting's value.

    `convert` raises ValueError on text it cannot use; `expected` completes the sentence
    "NAME must be ..." of the error that follows.
    """

    expected: str
    convert: Callable[[str], T]
    # Passwords keep their spaces; everything else is trimmed first.
    strip: bool = True


def whole(minimum: int, maximum: int | None = None) -> Kind[int]:
    """A whole number from `minimum` (up to `maximum`, if given)."""

    def convert(text: str) -> int:
        value = int(text)
        if value < minimum or (maximum is not None and value > maximum):
            raise ValueError(text)
        return value

    bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
    return Kind(f"a whole number {bounds}", convert)


def seconds(*, zero: bool) -> Kind[float]:
    """A finite number of seconds, above 0, or 0 too where 0 means "at once"."""

    def convert(text: str) -> float:
        value = float(text)
        if not (math.isfinite(value) and (value > 0 or (zero and value == 0))):
            raise ValueError(text)
        return value

    return Kind(
        "a number of seconds, 0 or more" if zero else "a number of seconds above 0", convert
    )


def days(maximum: float) -> Kind[float]:
    """A number of days above 0, up to `maximum`; fractions too (0.5 is twelve hours)."""

    def convert(text: str) -> float:
        value = float(text)
        if not (math.isfinite(value) and 0 < value <= maximum):
            raise ValueError(text)
        return value

    return Kind(f"a number of days above 0, at most {maximum:g}", convert)


def one_of(*choices: str) -> Kind[str]:
    """One of `choices`, in any letter case."""

    def convert(text: str) -> str:
        if text.lower() not in choices:
            raise ValueError(text)
        return text.lower()

    return Kind(f"one of {', '.join(choices)}", convert)


def _flag(text: str) -> bool:
    if text.lower() in _TRUE + _FALSE:
        return text.lower() in _TRUE
    raise ValueError(text)


def _names(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


def _introspection(text: str) -> str:
    if text.lower() in ("auto", "signed-in"):
        return text.lower()
    return "on" if _flag(text) else "off"


TEXT = Kind("text", str)
SECRET = Kind("text", str, strip=False)
PATH = Kind("a folder path", Path)
FLAG = Kind("1 or 0 (or true/false, yes/no, on/off)", _flag)
NAMES = Kind("a comma-separated list", _names)
PORT = whole(1, 65535)
INTROSPECTION = Kind("1 or 0 (or on/off), signed-in or auto", _introspection)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(text: str) -> tuple[Network, ...]:
    # A bare address is a network of one (1.2.3.4 is 1.2.3.4/32).
    return tuple(ipaddress.ip_network(item, strict=False) for item in _names(text))


def _rates(text: str) -> tuple[tuple[str, int, int], ...]:
    rates = []
    for item in _names(text):
        name, _, rate = item.partition("=")
        count, _, per = rate.partition("/")
        if not name.strip() or int(count) < 1 or int(per) < 1:
            raise ValueError(item)
        rates.append((name.strip(), int(count), int(per)))
    return tuple(rates)


def _day_counts(text: str) -> tuple[int, ...]:
    counts = sorted({int(item) for item in _names(text)}, reverse=True)
    if not counts or counts[-1] < 0 or counts[0] > 365:
        raise ValueError(text)
    return tuple(counts)


DAY_COUNTS = Kind("a comma-separated list of whole numbers of days from 0 to 365", _day_counts)


def _public_url(text: str) -> str:
    # A base for links in e-mails: scheme and host, maybe a path; no query or fragment to
    # which a link's own path could not be appended.
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(text)
    return text.rstrip("/")


def _time_of_day(text: str) -> dt.time:
    if len(text) not in (5, 8):  # HH:MM or HH:MM:SS, as the default is written
        raise ValueError(text)
    return dt.time.fromisoformat(text)


PUBLIC_URL = Kind("an http(s) URL such as https://api.example.com", _public_url)
TIME_OF_DAY = Kind("a time of day as HH:MM (or HH:MM:SS), e.g. 08:00", _time_of_day)
NETWORKS = Kind("a comma-separated list of IP addresses or networks (10.0.0.0/8)", _networks)
RATES = Kind("a comma-separated list of NAME=COUNT/SECONDS (whole numbers above 0)", _rates)


def env(name: str, kind: Kind[Any] = TEXT) -> dict[str, Any]:
    """The metadata of a field read from the variable `name`."""
    return {"env": name, "kind": kind}


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
    # Tests only: a file holding seconds added to the clock of due dates (infra/clock.py).
    clock_offset_file: str = field(default="", metadata=env("CLOCK_OFFSET_FILE"))
    graphiql: bool = field(default=True, metadata=env("GRAPHIQL", FLAG))
    # The reference collaboration page at GET / (schema/app_page.py).
    app: bool = field(default=True, metadata=env("APP", FLAG))
    # auto: on while GraphiQL is served, else for signed-in callers only (schema/visibility.py).
    introspection: str = field(default="auto", metadata=env("INTROSPECTION", INTROSPECTION))
    # Larger request bodies get 413 before they are read (schema/body_limit.py).
    max_body_bytes: int = field(default=1024 * 1024, metadata=env("MAX_BODY_BYTES", whole(1024)))
    # An operation whose answer grows past this is stopped with RESPONSE_TOO_LARGE; at least
    # 64 KiB, so that no ordinary page is ever refused (schema/response_budget.py).
    max_response_bytes: int = field(
        default=8 * 1024 * 1024, metadata=env("MAX_RESPONSE_BYTES", whole(64 * 1024))
    )
    # An HTTP operation still running after this is stopped with TIMEOUT (schema/guarded_view.py).
    request_timeout_seconds: float = field(
        default=10.0, metadata=env("REQUEST_TIMEOUT_SECONDS", seconds(zero=False))
    )
    # A connection must have sent its whole request head within this; one whose response
    # has waited this long for the client to read is aborted (infra/http_protocol.py).
    header_timeout_seconds: float = field(
        default=10.0, metadata=env("HEADER_TIMEOUT_SECONDS", seconds(zero=False))
    )
    write_timeout_seconds: float = field(
        default=30.0, metadata=env("WRITE_TIMEOUT_SECONDS", seconds(zero=False))
    )
    # Open WebSockets per client address in each process; more are refused with 429
    # (schema/socket_cap.py).
    max_sockets_per_address: int = field(
        default=10_000, metadata=env("MAX_SOCKETS_PER_ADDRESS", whole(1))
    )
    # Chat event batches a subscriber may have waiting before it is cut off as too slow
    # reading (infra/feeds.py).
    chat_queue_size: int = field(default=256, metadata=env("CHAT_QUEUE_SIZE", whole(1)))
    allowed_origins: tuple[str, ...] = field(default=(), metadata=env("ALLOWED_ORIGINS", NAMES))
    # The documents automatic persisted queries keep per process (schema/persisted_queries.py).
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
    # The reverse proxies whose X-Forwarded-For names the client (schema/client_address.py).
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
