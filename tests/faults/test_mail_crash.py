"""A delivery worker dies mid-send, or a send outlasts its lease: each e-mail still goes once.

Real `python server.py worker` processes against a real SMTP server (aiosmtpd) that holds
back its answer to one chosen message. Killed with SIGKILL while that message is being
sent, a worker leaves its short lease behind, and the next worker resends the e-mail as
soon as the lease runs out, with the same Message-ID. A live worker renews the lease of a
send that lasts longer than the lease, so another live worker never takes it. And a worker
that cannot keep its lease (its database stops answering, or another worker took the
e-mail) stops the send in time: the SMTP server sees it hang up.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from email.policy import default
from typing import Any

import asyncpg

from infra import mail_lease
from models import EmailStatus, OutboxEmail
from settings import Settings
from tests.support import Api, RunningServer, eventually, make_team
from tests.support_mail import (
    Sink,
    all_sent,
    drain_backlog,
    rows_to,
    smtp_server,
    worker_process,
    worker_settings,
)

# What the operator deploys: the test measures the default lease, not a shortened one.
LEASE_SECONDS = Settings().mail_lease_seconds
RESEND_WITHIN_SECONDS = 15.0


class StallingSink(Sink):
    """A Sink that holds back its answer to the first message whose Subject has `title`.

    `stall_seconds`: how long, before accepting it as usual. Records when each message was
    accepted (`accepted_at`, by Message-ID, monotonic clock).
    """

    def __init__(self, title: str, stall_seconds: float = 3600.0) -> None:
        super().__init__()
        self.title = title
        self.stall_seconds = stall_seconds
        self.stalled = threading.Event()
        self.accepted_at: dict[str, float] = {}

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=default)
        if self.title in message["Subject"] and not self.stalled.is_set():
            self.stalled.set()
            await asyncio.sleep(self.stall_seconds)
        answer = await super().handle_DATA(server, session, envelope)
        self.accepted_at.setdefault(message["Message-ID"], time.monotonic())
        return answer

    async def has_stalled(self) -> bool:
        return self.stalled.is_set()


async def row_titled(address: str, title: str) -> OutboxEmail:
    [row] = [r for r in await rows_to(address) if title in r.subject]
    return row


async def test_send_cut_by_sigkill_is_resent_within_seconds_with_its_message_id(
    api: Api, server: RunningServer
) -> None:
    await drain_backlog(server)
    team = await make_team(api)
    for title in ("Cut short", "Second", "Third"):
        assert (await api.add_milestone(team.freelancer, team.project_id, title))["errors"] == []
    sink = StallingSink("Cut short")
    with smtp_server(sink) as controller:
        settings = worker_settings(server, controller.port, mail_lease_seconds=LEASE_SECONDS)
        async with worker_process(settings) as first:
            await eventually(sink.has_stalled)
            first.process.kill()  # mid-send: the message is in, the answer is not out
            await first.process.wait()
        cut = await row_titled(team.client.email, "Cut short")
        assert (cut.status, cut.attempts) == (EmailStatus.PENDING, 1)
        assert cut.locked_by is not None  # the dead worker's lease, left behind

        started = time.monotonic()
        async with worker_process(settings) as second:
            await eventually(lambda: all_sent(team.client.email, 3), within=30)
            await asyncio.sleep(0.3)  # time for a duplicate to show up, were there one
        log = second.log.result().decode()

    assert sink.accepted_at[cut.message_id] - started < RESEND_WITHIN_SECONDS
    rows = await rows_to(team.client.email)
    received = Counter(m["Message-ID"] for m in sink.to(team.client.email))
    assert received == Counter({r.message_id: 1 for r in rows})
    assert (await row_titled(team.client.email, "Cut short")).attempts == 2
    assert len(sink.to(team.freelancer.email)) == 1  # the unlock e-mail, sent before the cut
    # What the operator reads: who died holding which e-mail, and that it is being resent.
    assert "stopped renewing its lease mid-send" in log, log
    assert cut.locked_by in log and cut.message_id in log, log


async def test_slow_send_renews_its_lease_and_two_live_workers_send_it_once(
    api: Api, server: RunningServer
) -> None:
    await drain_backlog(server)
    team = await make_team(api)
    assert (await api.add_milestone(team.freelancer, team.project_id, "Slow"))["errors"] == []
    lease = 2.0
    sink = StallingSink("Slow", stall_seconds=2.5 * lease)
    with smtp_server(sink) as controller:
        # The server's silence must outlast the lease, not the SMTP timeout.
        settings = worker_settings(
            server, controller.port, mail_lease_seconds=lease, smtp_timeout_seconds=4 * lease
        )
        async with worker_process(settings) as first, worker_process(settings) as second:
            await eventually(sink.has_stalled)
            slow = await row_titled(team.client.email, "Slow")
            assert slow.locked_until is not None
            first_lease_end = slow.locked_until
            seen: list[OutboxEmail] = []

            async def first_lease_over() -> bool:
                seen.append(await row_titled(team.client.email, "Slow"))
                return time.time() > first_lease_end.timestamp() + 0.5

            await eventually(first_lease_over)
            # The positive control: a live worker is polling now, and takes this new
            # e-mail at once, but not the slow one, whose first lease has run out.
            assert (await api.add_milestone(team.freelancer, team.project_id, "Later"))[
                "errors"
            ] == []
            await eventually(lambda: all_sent(team.client.email, 2))
        text = "".join(w.log.result().decode() for w in (first, second))

    later = await row_titled(team.client.email, "Later")
    assert sink.accepted_at[later.message_id] < sink.accepted_at[slow.message_id]
    # The slow send held one lease throughout, renewed beyond its first end.
    assert {r.locked_by for r in seen} == {slow.locked_by}
    renewed = max(r.locked_until for r in seen if r.locked_until is not None)
    assert renewed > first_lease_end
    assert [m["Message-ID"] for m in sink.to(team.client.email)].count(slow.message_id) == 1
    assert (await row_titled(team.client.email, "Slow")).attempts == 1
    assert not any(word in text for word in ("abandoned", "stopped renewing", " failed")), text


class DroppingSink(StallingSink):
    """A StallingSink that notes when the sender hangs up during the stall (aiosmtpd cancels
    the handler when the connection is lost), by the wall clock."""

    def __init__(self, title: str) -> None:
        super().__init__(title)
        self.stalled_at = 0.0
        self.dropped_at = 0.0
        self.dropped = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.stalled_at = time.time()
        try:
            return await super().handle_DATA(server, session, envelope)
        except asyncio.CancelledError:
            self.dropped_at = time.time()
            self.dropped.set()
            raise

    async def until_dropped(self) -> None:
        assert await asyncio.to_thread(self.dropped.wait, 30), "the send was never stopped"


@contextlib.asynccontextmanager
async def outbox_locked(database_url: str, email_id: int) -> AsyncIterator[dt.datetime]:
    """For the block, the outbox table is locked by another connection, so the worker's
    writes wait (a database that stopped answering it); yields when the e-mail's lease, as
    last stored, runs out. The test process itself must not touch the database meanwhile."""
    select = "SELECT locked_until FROM outbox_email WHERE id = "
    if database_url.startswith("sqlite://"):
        path = database_url.removeprefix("sqlite://")
        with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
            db.execute("BEGIN EXCLUSIVE")
            try:
                [text] = db.execute(select + "?", (email_id,)).fetchone()
                yield dt.datetime.fromisoformat(text)
            finally:
                db.execute("ROLLBACK")
        return
    conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        async with conn.transaction():
            await conn.execute("LOCK TABLE outbox_email IN ACCESS EXCLUSIVE MODE")
            yield await conn.fetchval(select + "$1", email_id)
            raise _Release
    except _Release:
        pass
    finally:
        await conn.close()


class _Release(Exception):
    """Rolls the locking transaction back."""


async def test_worker_that_cannot_renew_stops_the_send_before_its_lease_runs_out(
    api: Api, server: RunningServer
) -> None:
    await drain_backlog(server)
    team = await make_team(api)  # queues the unlock e-mail, which will stall
    lease = 3.0
    sink = DroppingSink("Milestones unlocked")
    with smtp_server(sink) as controller:
        # The server's silence must outlast the lease, not the SMTP timeout; a failed
        # attempt is retried only once the test is over.
        settings = worker_settings(
            server,
            controller.port,
            mail_lease_seconds=lease,
            smtp_timeout_seconds=4 * lease,
            mail_retry_base_seconds=60,
        )
        async with worker_process(settings) as worker:
            await eventually(sink.has_stalled)
            [row] = await rows_to(team.freelancer.email)
            async with outbox_locked(server.settings.database_url, row.id) as lease_end:
                locked_at = time.time()
                await sink.until_dropped()
            await eventually(lambda: has_error(team.freelancer.email))
        log = worker.log.result().decode()
    # Not at the first failed renewal, and before the lease it last obtained ran out.
    assert locked_at + lease * mail_lease.RENEW_EVERY < sink.dropped_at < lease_end.timestamp()
    [row] = await rows_to(team.freelancer.email)
    assert row.locked_by is None and row.status == EmailStatus.PENDING
    assert row.last_error and "could not be renewed" in row.last_error
    assert "could not renew the lease" in log and "abandoned the send" in log, log
    # Due again, so that later tests' workers deliver it.
    await OutboxEmail.filter(id=row.id).update(next_attempt_at=dt.datetime.now(dt.UTC))


async def has_error(address: str) -> bool:
    return any(r.last_error for r in await rows_to(address))


async def test_worker_that_finds_its_lease_taken_stops_the_send_and_leaves_the_row(
    api: Api, server: RunningServer
) -> None:
    await drain_backlog(server)
    team = await make_team(api)
    lease = 3.0
    sink = DroppingSink("Milestones unlocked")
    with smtp_server(sink) as controller:
        settings = worker_settings(
            server, controller.port, mail_lease_seconds=lease, smtp_timeout_seconds=4 * lease
        )
        async with worker_process(settings) as worker:
            await eventually(sink.has_stalled)
            [row] = await rows_to(team.freelancer.email)
            assert row.locked_until is not None
            # Another worker takes the e-mail, as if this one's lease had run out.
            until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60)
            await OutboxEmail.filter(id=row.id).update(
                locked_by="another-worker", locked_until=until
            )
            await sink.until_dropped()
        log = worker.log.result().decode()
    # Found at a renewal, before its own lease would have run out.
    assert sink.dropped_at < row.locked_until.timestamp()
    [row] = await rows_to(team.freelancer.email)
    assert (row.locked_by, row.attempts, row.last_error) == ("another-worker", 1, None)
    assert "found taken by another worker" in log, log
    # Handed back, so that later tests' workers deliver it.
    await OutboxEmail.filter(id=row.id).update(locked_by=None, locked_until=None)
