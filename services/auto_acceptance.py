"""Automatic acceptance: a completed milestone the client leaves unanswered is accepted for
them MILESTONE_AUTO_ACCEPT_DAYS after it was completed, and they are reminded a day before.

Nothing is planned ahead: both moments follow from the milestone's row (`completed_at` plus
the days), so whatever moves them (unticking, sending back, ticking again) does so by
changing `completed_at`, which also clears `acceptance_reminded_at`. The delivery worker's
chore reads the completed, unaccepted milestones oldest first (the index on
(accepted_at, completed_at) serves every query here), and settles each that is due under
the project lock:

- the reminder, by a conditional UPDATE of `acceptance_reminded_at` that matches only while
  the milestone is unaccepted, unreminded and still completed at the instant the chore read,
  so of any number of workers one wins, once; its e-mail is queued in the same transaction.
- the acceptance, through `services.acceptance.accept_milestone`, which re-reads the
  milestone under the lock and accepts it only while it is COMPLETED and its own period is
  over: one unticked and ticked again since it was read has a new `completed_at`, so a new
  period; a second worker finds it ACCEPTED and does nothing.

A worker that was stopped past a moment settles it when it is back: the acceptance once; a
reminder only while its acceptance is still ahead (one whose moment has gone by would
announce the past).

On time: each pass returns the seconds until the next moment, or at most
MILESTONE_REMINDER_CHECK_SECONDS, the longest a worker goes without noticing milestones
completed through other processes, or a clock a test moved.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from dataclasses import dataclass

from tortoise.exceptions import DoesNotExist
from tortoise.queryset import QuerySet

from infra import clock, links
from infra.mail_worker import Chore
from infra.unit_of_work import atomic
from models import Milestone
from services import acceptance, reminder_notices
from settings import Settings

logger = logging.getLogger("milestones.mail")

BATCH = 100
# How long before its automatic acceptance the client is reminded.
REMINDER_LEAD = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Moments:
    """When, for a milestone completed at a given instant, the client is reminded and the
    milestone accepted; built from MILESTONE_AUTO_ACCEPT_DAYS (over 0)."""

    period: dt.timedelta

    @property
    def reminds(self) -> bool:
        # With a period of a day the reminder's moment is the completion itself, which the
        # client was just told of: no reminder.
        return self.period > REMINDER_LEAD

    def accept_at(self, completed_at: dt.datetime) -> dt.datetime:
        return completed_at + self.period

    def remind_at(self, completed_at: dt.datetime) -> dt.datetime:
        return completed_at + self.period - REMINDER_LEAD


async def _accept(milestone_id: int) -> None:
    """Accept the milestone for its client if it is still due under the lock: it may have
    been unticked or sent back (and ticked again: a new period) since it was read, or
    accepted by another worker (then nothing changes)."""
    milestone = await Milestone.get_or_none(id=milestone_id)
    if milestone is None:
        return  # deleted since
    with contextlib.suppress(DoesNotExist):  # deleted since
        await acceptance.accept_milestone(None, milestone)


async def _remind(
    milestone_id: int, project_id: int, completed_at: dt.datetime, moments: Moments
) -> bool:
    """Queue the client's reminder if the milestone still waits as it did when read; False
    if it changed since or another worker had it."""
    async with atomic() as work:
        project = await work.lock_project(project_id)
        claimed = await Milestone.filter(
            id=milestone_id,
            completed_at=completed_at,
            accepted_at__isnull=True,
            acceptance_reminded_at__isnull=True,
        ).update(acceptance_reminded_at=clock.now())
        if not claimed:
            return False
        milestone = await Milestone.get(id=milestone_id)
        link = links.public_url("/") or ""  # the client app, when PUBLIC_URL says where
        accept_at = moments.accept_at(completed_at)
        if not await reminder_notices.acceptance_reminder(project, milestone, accept_at, link):
            return True  # turned off: settled all the same
    logger.info("queued the acceptance reminder of milestone %s", milestone_id)
    return True


class AutoAcceptanceChore:
    """The worker's pass: accept what is due, remind of what is due tomorrow."""

    def __init__(self, moments: Moments, check_seconds: float) -> None:
        self.moments = moments
        self.check_seconds = check_seconds

    async def run(self) -> float:
        now = clock.now()
        if await queue_due(self.moments, now) >= BATCH:
            return 0.0  # more are due: at once
        due = await next_due(self.moments, now)
        if due is None or due <= now:
            # Nothing waits; or what was due at this pass still waits after it (the
            # acceptance found it changed, or failed): looked at again later, not at once.
            return self.check_seconds
        return max(0.0, min(self.check_seconds, (due - clock.now()).total_seconds()))


def _waiting() -> QuerySet[Milestone]:
    """Completed milestones waiting for the client's word."""
    return Milestone.filter(accepted_at__isnull=True, completed_at__isnull=False)


async def _oldest(query: QuerySet[Milestone], limit: int) -> list[tuple[int, int, dt.datetime]]:
    """(id, project id, completed_at) of the oldest completed among `query`."""
    rows = (
        await query.order_by("completed_at", "id")
        .limit(limit)
        .values_list("id", "project_id", "completed_at")
    )
    return [(int(m), int(p), c) for m, p, c in rows]  # type: ignore[misc]  # Tortoise types values_list rows loosely


async def queue_due(moments: Moments, now: dt.datetime) -> int:
    """Accept the milestones due at `now`, then queue the reminders due; returns how many
    were due (at most a batch of each)."""
    due = await _oldest(_waiting().filter(completed_at__lte=now - moments.period), BATCH)
    for milestone_id, _, _ in due:
        await _accept(milestone_id)
    if not moments.reminds:
        return len(due)
    # Those whose acceptance is still ahead: a reminder of a moment gone by says nothing.
    unreminded = _waiting().filter(
        acceptance_reminded_at__isnull=True,
        completed_at__gt=now - moments.period,
        completed_at__lte=now - moments.period + REMINDER_LEAD,
    )
    reminders = await _oldest(unreminded, BATCH)
    for milestone_id, project_id, completed_at in reminders:
        await _remind(milestone_id, project_id, completed_at, moments)
    return max(len(due), len(reminders))


async def next_due(moments: Moments, now: dt.datetime) -> dt.datetime | None:
    """The next moment after the pass at `now`: an acceptance or a reminder, if any waits."""
    moments_ahead = [moments.accept_at(c) for _, _, c in await _oldest(_waiting(), 1)]
    if moments.reminds:
        unreminded = _waiting().filter(
            acceptance_reminded_at__isnull=True,
            completed_at__gt=now - moments.period + REMINDER_LEAD,
        )
        moments_ahead += [moments.remind_at(c) for _, _, c in await _oldest(unreminded, 1)]
    return min(moments_ahead, default=None)


def chore(settings: Settings) -> Chore | None:
    """Automatic acceptance and its reminders, run by the delivery worker when the next
    falls due; None while MILESTONE_AUTO_ACCEPT_DAYS is 0 (off)."""
    days = settings.milestone_auto_accept_days
    if days <= 0:
        return None
    acceptance.configure(settings)  # the acceptance checks under the lock with the same days
    moments = Moments(dt.timedelta(days=days))
    pass_ = AutoAcceptanceChore(moments, settings.milestone_reminder_check_seconds)
    return Chore("auto-acceptance", pass_.run)
