"""The lease a delivery worker holds on one outbox e-mail while it sends it.

Guarantee: a send run by `Lease.hold_while` only goes on while the e-mail's lease is this
worker's. The lease (`locked_until`, `locked_by`) is taken by a conditional UPDATE for
MAIL_LEASE_SECONDS and renewed every third of that by an UPDATE that only succeeds while
`locked_by` is still this worker. If a renewal finds the lease taken, the send is cancelled
at once; if renewals fail (the database is unreachable, slow), it is cancelled LEASE_MARGIN
before the lease last obtained runs out. Another worker only claims an e-mail whose lease
has run out, so two workers never send one e-mail at the same time; and a worker that died
stops renewing, so its e-mail is free again within one lease.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from tortoise.expressions import F, Q

from models import EmailStatus, OutboxEmail

logger = logging.getLogger("milestones.mail")

T = TypeVar("T")

# Fractions of the lease. A send is abandoned LEASE_MARGIN before the lease last obtained
# runs out: cancelling takes a moment, and other workers' clocks may run a little ahead.
# Renewals come every RENEW_EVERY, so two can fail before the margin is reached; after a
# failed one the next comes sooner, every RENEW_RETRY.
LEASE_MARGIN = 0.1
RENEW_EVERY = 1 / 3
RENEW_RETRY = 0.1


class LeaseLost(Exception):
    """The lease cannot be kept, so the send was stopped.

    `taken`: another worker holds the e-mail now; otherwise renewing it failed.
    """

    def __init__(self, message: str, *, taken: bool) -> None:
        super().__init__(message)
        self.taken = taken


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(slots=True)
class Lease:
    """This worker's hold on one e-mail; `held_until` is in event-loop time."""

    email_id: int
    worker_id: str
    seconds: float
    held_until: float

    @classmethod
    async def claim(cls, email_id: int, worker_id: str, seconds: float, free: Q) -> Lease | None:
        """Lease the e-mail if it matches `free` (no live lease), counting an attempt."""
        # Read before the UPDATE: the lease is never thought to last longer than the stored one.
        started = asyncio.get_running_loop().time()
        # The attempt is counted when claimed, so a worker that dies mid-send counts too.
        claimed = await OutboxEmail.filter(free, id=email_id).update(
            locked_until=_now() + dt.timedelta(seconds=seconds),
            locked_by=worker_id,
            attempts=F("attempts") + 1,
        )
        return cls(email_id, worker_id, seconds, started + seconds) if claimed else None

    async def hold_while(self, work: Awaitable[T]) -> T:
        """Run `work`, renewing the lease until it is done; LeaseLost if it cannot be kept."""
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(work)
        renew_at = loop.time() + self.seconds * RENEW_EVERY
        try:
            while True:
                deadline = self.held_until - self.seconds * LEASE_MARGIN
                await asyncio.wait([task], timeout=max(0.0, min(renew_at, deadline) - loop.time()))
                if task.done():
                    return task.result()
                if loop.time() >= deadline:
                    raise LeaseLost("its lease could not be renewed before it ran out", taken=False)
                renew_at = await self._renew(deadline)
        finally:
            if not task.done():
                task.cancel()
                await asyncio.wait([task])
            # Retrieved, so that an error raised while cancelling is not reported as lost.
            if not task.cancelled():
                task.exception()

    async def _renew(self, deadline: float) -> float:
        """Extend the lease by its length from now; returns when to renew next."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            # A renewal that hangs must not keep the send going past the deadline.
            async with asyncio.timeout(deadline - started):
                renewed = await OutboxEmail.filter(
                    id=self.email_id, locked_by=self.worker_id, status=EmailStatus.PENDING
                ).update(locked_until=_now() + dt.timedelta(seconds=self.seconds))
        except Exception as e:
            logger.warning(
                "could not renew the lease of e-mail %s (%s); retrying",
                self.email_id,
                str(e) or type(e).__name__,
            )
            return loop.time() + self.seconds * RENEW_RETRY
        if not renewed:
            raise LeaseLost("its lease was found taken by another worker", taken=True)
        self.held_until = started + self.seconds
        return started + self.seconds * RENEW_EVERY
