"""The outbox delivery worker: claims due e-mails, sends them, retries with backoff.

Exactly once, also with several processes on one database: a worker only sends an e-mail
after winning a conditional UPDATE that leases it (`locked_until`, `locked_by`) for
MAIL_LEASE_SECONDS. While the send is in progress the worker renews the lease every third
of that (`infra/mail_lease.py`), by an UPDATE that only succeeds while `locked_by` is still
this worker. A worker that cannot renew (say, the database is unreachable) abandons the
send a margin before the lease it last obtained runs out, and one that finds the lease
taken abandons it at once; so no other worker can take an e-mail while it is being sent. A worker that dies stops
renewing: its e-mail is retried by any live worker within one lease (plus one poll). The one
remaining window (the server accepted the e-mail but the worker died before recording it)
is narrowed by retrying that write, and covered by the stable Message-ID receivers can use
to recognise the resend.

Failures are never dropped: a transient one (refused, timed out, 4xx) is retried with
exponential backoff and jitter, forever, capped at MAIL_RETRY_MAX_SECONDS; a permanent one
(5xx) is retried until the e-mail has had MAIL_MAX_REJECTED_ATTEMPTS attempts, then the
e-mail is FAILED, logged, and listed by the `undeliveredEmails` query.

Beside deliveries the worker runs chores (`Chore`), each of which says when it next wants
to run: the worker sleeps no longer than that, and leaves a batch between two e-mails for a
chore that is due.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import os
import random
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from tortoise.expressions import Q

from infra import metrics, request_context
from infra.mail_lease import Lease, LeaseLost
from infra.outage_log import OutageLog
from mailers.transport import DeliveryError, Transport, build_message, make_transport
from models import EmailStatus, OutboxEmail
from settings import Settings

logger = logging.getLogger("milestones.mail")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def backoff_seconds(
    attempts: int, base: float, cap: float, draw: Callable[[float, float], float] = random.uniform
) -> float:
    """Delay before the next attempt after `attempts` failed ones: exponential, jittered.

    The jitter ("equal jitter": half fixed, half random) keeps e-mails that failed together
    from all retrying at the same instant once the server is back. `draw(low, high)` picks
    it; a caller that must know the extremes passes its own.
    """
    # The exponent is bounded: an outage of days must not overflow the float.
    delay = min(cap, base * 2 ** min(max(attempts - 1, 0), 64))
    return delay / 2 + draw(0, delay / 2)


def _due() -> Q:
    """Pending e-mails that are due and leased by no worker (or whose lease has run out)."""
    now = _now()
    return Q(status=EmailStatus.PENDING, next_attempt_at__lte=now) & (
        Q(locked_until__isnull=True) | Q(locked_until__lt=now)
    )


@dataclass(frozen=True, slots=True)
class Chore:
    """Work the worker does beside deliveries, e.g. queueing the reminders that fall due.

    `run` does one pass and returns how many seconds from now it next wants to run; the
    worker wakes for it then, even when no e-mail is due.
    """

    name: str
    run: Callable[[], Awaitable[float]]


class MailWorker:
    """One delivery worker; any number may run against one database."""

    def __init__(
        self,
        settings: Settings,
        *,
        chores: Sequence[Chore] = (),
        transport: Transport | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.chores = tuple(chores)
        self.transport = transport or make_transport(settings)
        self.worker_id = (
            worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        )[:64]
        self._stopping = asyncio.Event()
        self._outage = OutageLog(logger, f"mail worker {self.worker_id}")
        self._next_runs: list[float] = []

    def stop(self) -> None:
        """Ask `run` to return after the e-mail in hand."""
        self._stopping.set()

    async def run(self) -> None:
        """Deliver e-mails and run the chores until `stop` (or cancellation)."""
        s = self.settings
        loop = asyncio.get_running_loop()
        # When each chore next wants to run (loop time).
        self._next_runs = [loop.time()] * len(self.chores)
        logger.info("mail worker %s started (%s)", self.worker_id, s.smtp_host or s.mail_dir)
        try:
            while not self._stopping.is_set():
                await self._run_chores()
                busy = False
                try:  # a failure (the database unreachable) keeps the worker alive
                    busy = await self.deliver_due() >= s.mail_batch_size
                    self._outage.succeeded()
                except Exception:
                    self._outage.failed("delivery pass")
                if not busy:
                    await self.transport.idle()
                    wake = min([loop.time() + s.mail_poll_seconds, *self._next_runs])
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), wake - loop.time())
        finally:
            await self.transport.close()
            logger.info("mail worker %s stopped", self.worker_id)

    async def _run_chores(self) -> None:
        """Run each chore whose time has come, and note when it next wants to run."""
        loop = asyncio.get_running_loop()
        for index, chore in enumerate(self.chores):
            if loop.time() < self._next_runs[index]:
                continue
            try:
                wait = await chore.run()
            except Exception:
                self._outage.failed(f"chore {chore.name}")
                # E.g. the database is unreachable: not again at once, nor much later.
                wait = self.settings.mail_poll_seconds
            self._next_runs[index] = loop.time() + max(wait, 0.0)

    async def deliver_due(self) -> int:
        """One pass over the due e-mails; returns how many were due (at most a batch)."""
        rows = (
            await OutboxEmail.filter(_due())
            .order_by("next_attempt_at", "id")
            .limit(self.settings.mail_batch_size)
            .values_list("id", "locked_by", "request_id")
        )
        loop = asyncio.get_running_loop()
        for email_id, held_by, request_id in rows:
            # A chore that is due (a reminder) must not wait for a batch to a slow server.
            if self._stopping.is_set() or loop.time() >= min(self._next_runs, default=math.inf):
                break
            # What is logged about the e-mail names the request that queued it.
            with request_context.acting_for(request_id):
                outcome = await self.deliver_one(int(email_id), held_by)
            if outcome == "unavailable":
                break  # the server is down: the others wait for the next pass
        return len(rows)

    async def deliver_one(self, email_id: int, held_by: str | None = None) -> str:
        """Claim and send one e-mail: "sent", "retry", "failed", "skipped" or "unavailable".

        `held_by`: the worker whose lease on it was seen to have run out, if any.
        """
        s = self.settings
        lease = await Lease.claim(email_id, self.worker_id, s.mail_lease_seconds, _due())
        if lease is None:
            return "skipped"  # another worker has it, or it is done
        email = await OutboxEmail.get(id=email_id)
        if held_by:
            logger.warning(
                "e-mail %s (%s to %s): worker %s stopped renewing its lease mid-send (it died "
                "or lost the database); resending it as attempt %d, same Message-ID %s",
                email.id,
                email.kind,
                email.to_address,
                held_by,
                email.attempts,
                email.message_id,
            )
        try:
            message = build_message(email, s.mail_from)
        except ValueError as e:
            # The stored e-mail itself is malformed (e.g. its address): no retry can help.
            return await self._failed(email, DeliveryError(f"cannot build the message: {e}"), True)
        started = time.perf_counter()
        try:
            await lease.hold_while(self.transport.deliver(email, message))
        except asyncio.CancelledError:
            await self._release(email)
            raise
        except LeaseLost as e:
            logger.warning("e-mail %s: %s abandoned the send: %s", email.id, self.worker_id, e)
            if e.taken:
                return "skipped"  # the row is the other worker's now: leave it alone
            error = DeliveryError(f"send abandoned: {e}")
        except DeliveryError as e:
            error = e
        else:
            metrics.EMAIL_SEND_SECONDS.labels("sent").observe(time.perf_counter() - started)
            await self._sent(email)
            return "sent"
        metrics.EMAIL_SEND_SECONDS.labels("failed").observe(time.perf_counter() - started)
        give_up = error.permanent and email.attempts >= s.mail_max_rejected_attempts
        return await self._failed(email, error, give_up)

    async def _release(self, email: OutboxEmail) -> None:
        """Stopping mid-send: hand the e-mail back now instead of when the lease runs out.

        The server may have taken it already; then the resend carries the same Message-ID.
        """
        try:
            async with asyncio.timeout(2):
                await OutboxEmail.filter(id=email.id, locked_by=self.worker_id).update(
                    locked_until=None, locked_by=None
                )
        except Exception:
            logger.warning("could not release e-mail %s; its lease will run out", email.id)

    async def _sent(self, email: OutboxEmail) -> None:
        # The e-mail is out: if this write is lost, another worker resends it after the lease,
        # so insist a little before giving up.
        recorded = 0
        for attempt in range(5):
            try:
                recorded = await OutboxEmail.filter(id=email.id, locked_by=self.worker_id).update(
                    status=EmailStatus.SENT, sent_at=_now(), locked_until=None, locked_by=None
                )
                break
            except Exception:
                if attempt == 4:
                    raise
                logger.warning("could not record e-mail %s as sent; retrying", email.id)
                await asyncio.sleep(0.2 * 2**attempt)
        logger.info(
            "e-mail %s (%s to %s) sent by %s",
            *(email.id, email.kind, email.to_address, self.worker_id),
        )
        if not recorded:
            # It finished just as the lease was lost: the new holder sends it again, with the
            # same Message-ID.
            logger.warning("e-mail %s was sent after its lease was lost", email.id)

    async def _failed(self, email: OutboxEmail, error: DeliveryError, give_up: bool) -> str:
        """Record a failed attempt: "failed" (given up), "unavailable" or "retry"."""
        s = self.settings
        if give_up:
            logger.error(
                "e-mail %s (%s to %s) FAILED after %d attempts: %s",
                *(email.id, email.kind, email.to_address, email.attempts, error),
            )
            changes: dict[str, object] = {"status": EmailStatus.FAILED}
        else:
            delay = backoff_seconds(
                email.attempts, s.mail_retry_base_seconds, s.mail_retry_max_seconds
            )
            logger.warning(
                "e-mail %s (%s to %s) attempt %d failed, retrying in %.1f s: %s",
                *(email.id, email.kind, email.to_address, email.attempts, delay, error),
            )
            changes = {"next_attempt_at": _now() + dt.timedelta(seconds=delay)}
        await OutboxEmail.filter(id=email.id, locked_by=self.worker_id).update(
            last_error=str(error)[:2000], locked_until=None, locked_by=None, **changes
        )
        if give_up:
            return "failed"
        return "unavailable" if error.server_unavailable else "retry"


@asynccontextmanager
async def running_worker(worker: MailWorker) -> AsyncIterator[MailWorker]:
    """Run `worker` as a task for the duration of the block (the server's lifespan)."""
    task = asyncio.create_task(worker.run(), name="mail-worker")
    try:
        yield worker
    finally:
        worker.stop()
        # wait_for cancels the worker if it does not finish the e-mail in hand in time.
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, worker.settings.mail_stop_grace_seconds)
