"""Due-soon and overdue reminders: armed with each change, queued by the delivery worker.

Arming: every change that moves what is ahead (a milestone added, its due date changed,
completed or reopened, the project's time zone changed) calls `arm` in its own transaction,
under the project lock. It drops the milestone's reminders still waiting and plans, as rows
of `MilestoneReminder`, those still ahead (services/reminder_schedule.py). A completed
milestone has none, nor has an accepted one (which is final); a deleted one loses its rows with it (ON DELETE CASCADE).

Sending: the worker's chore reads the waiting rows due by `clock.now()`, earliest first,
and settles each in one transaction with the project lock: a conditional UPDATE of
`settled_at` (so of any number of workers one wins, once), the milestone re-read, then the
e-mails (and, for the first overdue one, the chat event) queued through the outbox, and the
next overdue repeat planned. The row's key (milestone, due date, kind, offset) is unique, so
a reminder already settled is never planned again, whatever is re-armed later.

On time: each pass returns the seconds until the earliest waiting row, or the longest a
worker waits to see rows armed by other processes (MILESTONE_REMINDER_CHECK_SECONDS).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from pathlib import Path

from tortoise.expressions import Subquery

from infra import clock, links
from infra.mail_worker import Chore
from infra.unit_of_work import atomic
from models import Milestone, MilestoneReminder, MilestoneState, ReminderKind
from models.rows import MilestoneRow
from services import reminder_notices
from services.deadlines import today
from services.reminder_schedule import ReminderPolicy, ahead, repeat
from settings import Settings

logger = logging.getLogger("milestones.mail")

BATCH = 100
_policy = ReminderPolicy()


def configure(settings: Settings) -> None:
    """The reminder settings this process arms and sends with, and the clock it reads (a
    test's, with CLOCK_OFFSET_FILE); set at start."""
    global _policy
    _policy = ReminderPolicy.from_settings(settings)
    if settings.clock_offset_file:
        clock.use_offset_file(Path(settings.clock_offset_file))


async def arm(milestones: Sequence[Milestone | MilestoneRow], time_zone: str) -> None:
    """Plan what is still ahead for `milestones` (of one project whose lock the caller holds)
    and drop what no longer applies."""
    if not milestones:
        return
    ids = [m.id for m in milestones]
    await MilestoneReminder.filter(milestone_id__in=ids, settled_at__isnull=True).delete()
    now = clock.now()
    wanted = [
        (m, planned)
        for m in milestones
        if m.state is MilestoneState.OPEN
        for planned in ahead(_policy, m.due_date, time_zone, now)
    ]
    if not wanted:
        return
    # Those settled already (sent, or found no longer applying) are not planned again.
    settled = set(
        await MilestoneReminder.filter(milestone_id__in=ids).values_list(
            "milestone_id", "due_date", "kind", "offset_days"
        )
    )
    await MilestoneReminder.bulk_create(
        [
            MilestoneReminder(
                milestone_id=m.id,
                due_date=m.due_date,
                kind=p.kind,
                offset_days=p.offset_days,
                due_at=p.due_at,
            )
            for m, p in wanted
            if (m.id, m.due_date, p.kind, p.offset_days) not in settled
        ]
    )


async def _settle(reminder_id: int, milestone_id: int) -> bool:
    """Queue one due reminder if it still applies; False if another worker had it."""
    project_id = await Milestone.filter(id=milestone_id).values_list("project_id", flat=True)
    if not project_id:
        return False  # deleted since: its reminders went with it
    now = clock.now()
    async with atomic() as work:
        project = await work.lock_project(int(project_id[0]))  # type: ignore[call-overload]  # Tortoise types flat values_list rows as tuples
        claimed = await MilestoneReminder.filter(id=reminder_id, settled_at__isnull=True).update(
            settled_at=now
        )
        if not claimed:
            return False
        reminder = await MilestoneReminder.get(id=reminder_id)
        milestone = await Milestone.get_or_none(id=milestone_id)
        if (
            milestone is None
            or milestone.state is not MilestoneState.OPEN
            or milestone.due_date != reminder.due_date
        ):
            return True  # no longer applies (arm drops such rows; this is the safety net)
        # The client app, when PUBLIC_URL says where it is; empty: no link.
        link = links.public_url("/") or ""
        if reminder.kind == ReminderKind.DUE_SOON:
            # Only on its own day: a worker back after days away does not say "due in 3 days"
            # the day before (or after) the due date.
            on_its_day = milestone.due_date - dt.timedelta(days=reminder.offset_days)
            if today(project.time_zone, now) == on_its_day:
                days = reminder.offset_days
                await reminder_notices.milestone_due_soon(project, milestone, days, link)
            return True
        days_late = reminder.offset_days
        await reminder_notices.milestone_overdue(
            work, project, milestone, days_late, repeat=reminder.repeat, link=link
        )
        await _plan_repeat(reminder, project.time_zone, now)
    logger.info(
        "queued the %s reminder %s of milestone %s", reminder.kind, reminder_id, milestone_id
    )
    return True


async def _plan_repeat(reminder: MilestoneReminder, time_zone: str, now: dt.datetime) -> None:
    planned = repeat(_policy, reminder.due_date, reminder.offset_days, time_zone, now)
    found = MilestoneReminder.filter(
        milestone_id=reminder.milestone_id,
        due_date=reminder.due_date,
        kind=planned.kind,
        offset_days=planned.offset_days,
    )
    if not await found.exists():
        await MilestoneReminder.create(
            milestone_id=reminder.milestone_id,
            due_date=reminder.due_date,
            kind=planned.kind,
            offset_days=planned.offset_days,
            due_at=planned.due_at,
            repeat=True,
        )


async def queue_due(now: dt.datetime | None = None) -> int:
    """Settle the reminders due at `now`; returns how many were due (at most a batch)."""
    due = (
        await MilestoneReminder.filter(settled_at__isnull=True, due_at__lte=now or clock.now())
        .order_by("due_at")
        .limit(BATCH)
        .values_list("id", "milestone_id")
    )
    for reminder_id, milestone_id in due:
        await _settle(int(reminder_id), int(milestone_id))
    return len(due)


async def next_due() -> dt.datetime | None:
    """When the earliest waiting reminder falls due, if any waits."""
    # Served by the index on (settled_at, due_at).
    earliest = (
        await MilestoneReminder.filter(settled_at__isnull=True)
        .order_by("due_at")
        .limit(1)
        .values_list("due_at", flat=True)
    )
    return earliest[0] if earliest else None  # type: ignore[return-value]  # as above


async def arm_unarmed() -> int:
    """Arm the open milestones that have no reminder at all: those made before reminders
    existed (an open milestone always has its next overdue reminder waiting)."""
    armed = 0
    while True:
        found = (
            await Milestone.filter(completed_at__isnull=True)
            .exclude(id__in=Subquery(MilestoneReminder.all().values("milestone_id")))
            .limit(BATCH)
            .values_list("id", "project_id")
        )
        for milestone_id, project_id in found:
            async with atomic() as work:
                project = await work.lock_project(int(project_id))
                if not await MilestoneReminder.filter(milestone_id=milestone_id).exists():
                    milestones = await Milestone.filter(id=milestone_id)
                    await arm(milestones, project.time_zone)
        armed += len(found)
        if len(found) < BATCH:
            return armed


class DeadlineChore:
    """The worker's pass: arm what predates reminders (once), then queue what is due."""

    def __init__(self, check_seconds: float) -> None:
        self.check_seconds = check_seconds
        self.backfilled = False

    async def run(self) -> float:
        if not self.backfilled:
            if armed := await arm_unarmed():
                logger.info("armed the reminders of %d milestones", armed)
            self.backfilled = True
        if await queue_due() >= BATCH:
            return 0.0  # more are due: at once
        due = await next_due()
        if due is None:
            return self.check_seconds
        return max(0.0, min(self.check_seconds, (due - clock.now()).total_seconds()))


def chore(settings: Settings) -> Chore:
    """The due-soon and overdue reminders, run by the delivery worker when the next is due."""
    configure(settings)
    return Chore("deadline-reminders", DeadlineChore(settings.milestone_reminder_check_seconds).run)
