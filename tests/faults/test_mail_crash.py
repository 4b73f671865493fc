"""A delivery worker dies mid-send, or a send outlasts its lease: each e-mail still goes once.

Real `python server.py worker` processes against a real SMTP server (aiosmtpd) that holds
back its answer to one chosen message. Killed with SIGKILL while that message is being
sent, a worker leaves its short lease behind, and the next worker resends the e-mail as
soon as the lease runs out, with the same Message-ID. A live worker renews the lease of a
send that lasts longer than the lease, so another live worker never takes it. And a worker
that cannot keep its lease (renewals fail, or it was taken) stops the send in time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import threading
import time
from collections import Counter
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest

from infra import mail_lease
from infra.mail_worker import MailWorker, running_worker
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
    if server.settings.database_url.startswith("sqlite"):
        pytest.skip("several worker processes share one database on PostgreSQL")
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


class HangingTransport:
    """A transport whose sends never finish; notes when one starts and when it is cancelled."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.cancelled = asyncio.Event()

    async def deliver(self, email: OutboxEmail, message: EmailMessage) -> None:
        self.started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise

    async def idle(self) -> None:
        return None

    async def close(self) -> None:
        return None


class UnreachableOutbox:
    """Stands in for the outbox table once the database is gone: every query fails."""

    @staticmethod
    def filter(*args: object, **kwargs: object) -> Any:
        raise ConnectionError("database unreachable")


async def has_error(address: str) -> bool:
    return any(r.last_error for r in await rows_to(address))


def hung_worker(server: RunningServer, lease: float) -> tuple[MailWorker, HangingTransport]:
    transport = HangingTransport()
    # No SMTP server (the transport stands in for one); a failed attempt is retried only
    # once the test is over.
    settings = worker_settings(server, 1, mail_lease_seconds=lease, mail_retry_base_seconds=60)
    return MailWorker(settings, transport=transport), transport


async def test_worker_that_cannot_renew_stops_the_send_before_its_lease_runs_out(
    api: Api, server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    await drain_backlog(server)
    team = await make_team(api)  # queues the unlock e-mail, which will hang
    lease = 1.5
    worker, transport = hung_worker(server, lease)
    loop = asyncio.get_running_loop()
    async with running_worker(worker):
        await asyncio.wait_for(transport.started.wait(), 15)
        claimed = loop.time()  # the claim came just before the send started
        monkeypatch.setattr(mail_lease, "OutboxEmail", UnreachableOutbox)
        await asyncio.wait_for(transport.cancelled.wait(), 2 * lease)
        stopped_after = loop.time() - claimed
        monkeypatch.undo()
        await eventually(lambda: has_error(team.freelancer.email))
        worker.stop()
    # Not at the first failed renewal, and before the lease ran out.
    assert lease * 2 / 3 < stopped_after < lease
    [row] = await rows_to(team.freelancer.email)
    assert row.locked_by is None and row.status == EmailStatus.PENDING
    assert row.last_error and "could not be renewed" in row.last_error
    # Due again, so that later tests' workers deliver it.
    await OutboxEmail.filter(id=row.id).update(next_attempt_at=dt.datetime.now(dt.UTC))


async def test_worker_that_finds_its_lease_taken_stops_the_send_and_leaves_the_row(
    api: Api, server: RunningServer
) -> None:
    await drain_backlog(server)
    team = await make_team(api)
    lease = 1.5
    worker, transport = hung_worker(server, lease)
    loop = asyncio.get_running_loop()
    async with running_worker(worker):
        await asyncio.wait_for(transport.started.wait(), 15)
        until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60)
        await OutboxEmail.filter(to_address=team.freelancer.email).update(
            locked_by="another-worker", locked_until=until
        )
        taken = loop.time()
        await asyncio.wait_for(transport.cancelled.wait(), 2 * lease)
        # Found at the next renewal, at most a third of a lease later.
        assert loop.time() - taken < lease * mail_lease.RENEW_EVERY + 0.3
        worker.stop()
    [row] = await rows_to(team.freelancer.email)
    assert (row.locked_by, row.attempts, row.last_error) == ("another-worker", 1, None)
    # Handed back, so that later tests' workers deliver it.
    await OutboxEmail.filter(id=row.id).update(locked_by=None, locked_until=None)
