"""Mail helpers: a recording SMTP server (aiosmtpd), worker settings and processes, outbox rows.

The shared test server runs without a delivery worker; a test that delivers starts its own,
against its own SMTP server, with `worker_settings` (fast timings).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import email
import os
import signal
import sys
import threading
from collections.abc import AsyncIterator, Iterable
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from infra.mail_worker import running_worker
from models import EmailStatus, OutboxEmail
from server import mail_worker
from settings import Settings
from tests.support import ROOT, RunningServer, eventually, free_port


class Sink:
    """An aiosmtpd handler that records what it accepts.

    `reject`: recipients refused with a permanent 550; `delay`: seconds spent on each
    message before accepting it; `hang`: the first message is never answered.
    """

    def __init__(
        self, *, reject: Iterable[str] = (), delay: float = 0.0, hang: bool = False
    ) -> None:
        self.reject = {a.lower() for a in reject}
        self.delay = delay
        self.hang = hang
        self.hung = threading.Event()
        self.received: list[tuple[list[str], EmailMessage]] = []
        self._lock = threading.Lock()  # the handler runs in the controller's thread

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() in self.reject:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.hang:
            self.hang = False
            self.hung.set()
            await asyncio.sleep(3600)
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.original_content, policy=default)
        with self._lock:
            self.received.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for rcpts, m in self.received if address in rcpts]


@contextlib.contextmanager
def smtp_server(sink: Sink, port: int | None = None) -> Any:
    controller = Controller(sink, hostname="127.0.0.1", port=port or free_port())
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def worker_settings(server: RunningServer, port: int, **overrides: Any) -> Settings:
    """The test server's settings, pointed at a local SMTP port, with fast timings."""
    fast: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_timeout_seconds": 2.0,
        "mail_poll_seconds": 0.05,
        "mail_retry_base_seconds": 0.05,
        "mail_retry_max_seconds": 0.3,
        "mail_lease_seconds": 5.0,
        "milestone_reminder_check_seconds": 0.05,
    }
    return dataclasses.replace(server.settings, **(fast | overrides))


def worker_env(settings: Settings) -> dict[str, str]:
    """The environment for `python server.py worker` with `settings`."""
    return os.environ | {
        "DATABASE_URL": settings.database_url,
        "SMTP_HOST": settings.smtp_host,
        "SMTP_PORT": str(settings.smtp_port),
        "SMTP_TIMEOUT_SECONDS": str(settings.smtp_timeout_seconds),
        "MAIL_DIR": str(settings.mail_dir),
        "MAIL_POLL_SECONDS": str(settings.mail_poll_seconds),
        "MAIL_RETRY_BASE_SECONDS": str(settings.mail_retry_base_seconds),
        "MAIL_RETRY_MAX_SECONDS": str(settings.mail_retry_max_seconds),
        "MAIL_LEASE_SECONDS": str(settings.mail_lease_seconds),
        "MAIL_BATCH_SIZE": str(settings.mail_batch_size),
        "MILESTONE_REMINDER_DELAY_SECONDS": str(settings.milestone_reminder_delay_seconds),
    }


@dataclasses.dataclass
class WorkerProcess:
    process: asyncio.subprocess.Process
    log: asyncio.Task[bytes]


@contextlib.asynccontextmanager
async def worker_process(settings: Settings) -> AsyncIterator[WorkerProcess]:
    """`python server.py worker` in a subprocess; stopped with SIGTERM (if still running)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "server.py",
        "worker",
        cwd=ROOT,
        env=worker_env(settings),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    # Read the log as it comes, so a full pipe never blocks the worker.
    log = asyncio.create_task(process.stderr.read())  # type: ignore[union-attr]
    try:
        yield WorkerProcess(process, log)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 20)
        await log


async def drain_backlog(server: RunningServer) -> None:
    """Deliver what earlier tests queued, so that only this test's e-mails are due."""
    with smtp_server(Sink()) as controller:
        async with running_worker(mail_worker(worker_settings(server, controller.port))):
            await eventually(_none_pending, within=30)


async def _none_pending() -> bool:
    return not await OutboxEmail.filter(status=EmailStatus.PENDING).exists()


async def rows_to(address: str) -> list[OutboxEmail]:
    """The outbox rows addressed to `address`, oldest first."""
    return await OutboxEmail.filter(to_address=address).order_by("id")


async def all_sent(address: str, count: int) -> bool:
    """Whether exactly `count` e-mails to `address` are queued, and all of them sent."""
    rows = await rows_to(address)
    return len(rows) == count and all(r.status == EmailStatus.SENT for r in rows)


def mail_env(smtp_port: int) -> dict[str, str]:
    """The environment of a server process whose worker delivers to `smtp_port` at once."""
    return {
        "MAIL_WORKER": "1",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "MAIL_POLL_SECONDS": "0.05",
    }


def clocked_mail_env(smtp_port: int, offset_file: Path) -> dict[str, str]:
    """`mail_env`, reading the clock moved through `offset_file` (CLOCK_OFFSET_FILE) and
    looking for what falls due five times a second."""
    return mail_env(smtp_port) | {
        "MILESTONE_REMINDER_CHECK_SECONDS": "0.2",
        "CLOCK_OFFSET_FILE": str(offset_file),
    }


def stand_clock(offset_file: Path, instant: dt.datetime) -> None:
    """Move the clock of every process reading `offset_file` to `instant`."""
    offset_file.write_text(str((instant - dt.datetime.now(dt.UTC)).total_seconds()))
