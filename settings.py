"""Runtime settings, read once from the environment (see the operating contract)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MAIL_FROM = "Milestones <no-reply@milestones.invalid>"


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the server reads from its environment, with the contract's defaults."""

    database_url: str = "sqlite://db.sqlite3"
    redis_url: str = ""
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_tls: str = "none"
    smtp_timeout_seconds: float = 30.0
    mail_from: str = DEFAULT_MAIL_FROM
    mail_dir: Path = field(default_factory=lambda: Path("mail"))
    milestone_reminder_delay_seconds: float = 172800.0
    graphiql: bool = True
    allowed_origins: tuple[str, ...] = ()
    run_mail_worker: bool = True
    # Delivery worker tuning (docs/mail.md); tests shrink these to run fast.
    mail_poll_seconds: float = 1.0
    mail_retry_base_seconds: float = 5.0
    mail_retry_max_seconds: float = 300.0
    mail_max_rejected_attempts: int = 3
    mail_lease_seconds: float = 120.0
    mail_batch_size: int = 50
    milestone_reminder_check_seconds: float = 60.0

    @classmethod
    def from_env(cls) -> Settings:
        smtp_tls = _env("SMTP_TLS", "none").lower() or "none"
        if smtp_tls not in ("none", "starttls", "tls"):
            raise ValueError("SMTP_TLS must be one of none, starttls, tls")
        default_port = {"none": 25, "starttls": 587, "tls": 465}[smtp_tls]
        origins = tuple(o.strip() for o in _env("ALLOWED_ORIGINS").split(",") if o.strip())
        return cls(
            database_url=_env("DATABASE_URL") or "sqlite://db.sqlite3",
            redis_url=_env("REDIS_URL"),
            smtp_host=_env("SMTP_HOST"),
            smtp_port=int(_env("SMTP_PORT") or default_port),
            smtp_username=_env("SMTP_USERNAME"),
            smtp_password=os.environ.get("SMTP_PASSWORD", ""),
            smtp_tls=smtp_tls,
            smtp_timeout_seconds=float(_env("SMTP_TIMEOUT_SECONDS") or 30),
            mail_from=_env("MAIL_FROM") or DEFAULT_MAIL_FROM,
            mail_dir=Path(_env("MAIL_DIR") or "mail"),
            milestone_reminder_delay_seconds=float(
                _env("MILESTONE_REMINDER_DELAY_SECONDS") or 172800
            ),
            graphiql=_env("GRAPHIQL", "1") != "0",
            allowed_origins=origins,
            run_mail_worker=_env("MAIL_WORKER", "1") != "0",
            mail_poll_seconds=float(_env("MAIL_POLL_SECONDS") or 1),
            mail_retry_base_seconds=float(_env("MAIL_RETRY_BASE_SECONDS") or 5),
            mail_retry_max_seconds=float(_env("MAIL_RETRY_MAX_SECONDS") or 300),
            mail_max_rejected_attempts=int(_env("MAIL_MAX_REJECTED_ATTEMPTS") or 3),
            mail_lease_seconds=float(_env("MAIL_LEASE_SECONDS") or 120),
            mail_batch_size=int(_env("MAIL_BATCH_SIZE") or 50),
            milestone_reminder_check_seconds=float(_env("MILESTONE_REMINDER_CHECK_SECONDS") or 60),
        )
