"""The "add your milestones" reminder: once per project, decided when the delay runs out.

The delivery worker runs `reminder_pass` as a chore (see `chore`). Each due project is
claimed by a conditional UPDATE of `milestone_reminder_queued_at` in the same transaction
that queues the e-mail, so however many workers run, and however often they restart, one
wins, once.

On time: each pass tells the worker to come back when the next reminder falls due (the
earliest unlock still unreminded, plus the delay), or sooner to look for projects unlocked
since, by this process or any other: often enough that one unlocked just after a pass is
seen before it falls due. So a reminder is queued, and sent unless older e-mails wait
ahead of it, within ON_TIME_SECONDS of its due moment (ON_TIME_SHARE of the delay, if that
is longer); a worker that starts queues at once what fell due while none was running.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from infra import metrics
from infra.mail_worker import Chore
from infra.outbox import enqueue
from mailers import milestone_mailer
from models import Milestone, Project
from services.mail_preferences import MailKind, gets_mail, unsubscribe_url
from settings import Settings

logger = logging.getLogger("milestones.mail")

BATCH = 100
# How late a reminder may go out: this many seconds, or this share of the delay if longer.
ON_TIME_SECONDS = 2.0
ON_TIME_SHARE = 0.01


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _unreminded() -> Q:
    """Unlocked projects whose reminder is still to be decided."""
    return Q(milestone_reminder_queued_at__isnull=True, milestones_unlocked_at__isnull=False)


async def _remind(project_id: int, now: dt.datetime, delay_seconds: float) -> bool:
    """Claim the project's reminder and queue the e-mail if it still has no milestone."""
    async with in_transaction():
        claimed = await Project.filter(
            id=project_id, milestone_reminder_queued_at__isnull=True
        ).update(milestone_reminder_queued_at=now)
        if not claimed:
            return False  # another worker decided it first
        # The claim's UPDATE holds the project row lock that adding a milestone takes too
        # (PostgreSQL), so this sees every milestone committed before it.
        if await Milestone.filter(project_id=project_id).exists():
            # The contract asks about a milestone "at that moment": there is one, so the
            # reminder is settled for good (the column records that the decision was made).
            return False
        project = await Project.get(id=project_id).select_related("freelancer")
        freelancer = project.freelancer
        if not gets_mail(freelancer, MailKind.REMINDERS):
            return False  # turned off: settled like any other decision
        unlocked_at = project.milestones_unlocked_at or now
        email = milestone_mailer.milestone_reminder(
            recipient_name=freelancer.name,
            project_title=project.title,
            unlocked_on=unlocked_at.date(),
            completion_date=project.completion_date,
            unsubscribe_url=unsubscribe_url(freelancer, MailKind.REMINDERS),
        )
        await enqueue(email, to=freelancer, project_id=project.id)
    due = unlocked_at + dt.timedelta(seconds=delay_seconds)
    metrics.REMINDER_LAG_SECONDS.observe(max(0.0, (now - due).total_seconds()))
    logger.info("queued the milestone reminder of project %s", project_id)
    return True


async def queue_due_reminders(delay_seconds: float, *, now: dt.datetime | None = None) -> int:
    """Queue the reminders due at `now`; returns how many e-mails were queued."""
    now = now or _now()
    cutoff = now - dt.timedelta(seconds=delay_seconds)
    due = (
        await Project.filter(_unreminded(), milestones_unlocked_at__lte=cutoff)
        .order_by("milestones_unlocked_at")
        .limit(BATCH)
        .values_list("id", flat=True)
    )
    queued = 0
    for project_id in due:
        queued += await _remind(int(project_id), now, delay_seconds)  # type: ignore[call-overload]  # Tortoise types flat values_list rows as tuples
    return queued


async def next_due(delay_seconds: float) -> dt.datetime | None:
    """When the next reminder falls due, if any project is waiting for one."""
    # Served by the index on (milestone_reminder_queued_at, milestones_unlocked_at).
    earliest = (
        await Project.filter(_unreminded())
        .order_by("milestones_unlocked_at")
        .limit(1)
        .values_list("milestones_unlocked_at", flat=True)
    )
    if not earliest:
        return None
    unlocked_at: dt.datetime = earliest[0]  # type: ignore[assignment]  # as above
    return unlocked_at + dt.timedelta(seconds=delay_seconds)


def look_again_seconds(delay_seconds: float, check_seconds: float) -> float:
    """How long a worker may go without looking for new unlocks and still be on time.

    A project unlocked just after a look falls due `delay` later, and must not go out more
    than the allowed lateness after that: looking every half of the larger of the two
    finds it in time (at most every `check_seconds`, which operators may lower).
    """
    allowed_lateness = max(ON_TIME_SECONDS, ON_TIME_SHARE * delay_seconds)
    return min(check_seconds, max(delay_seconds, allowed_lateness) / 2)


async def reminder_pass(delay_seconds: float, check_seconds: float) -> float:
    """Queue the due reminders; returns the seconds until the next pass is wanted."""
    await queue_due_reminders(delay_seconds)
    look_again = look_again_seconds(delay_seconds, check_seconds)
    due = await next_due(delay_seconds)
    if due is None:
        return look_again
    # Due already (more than a batch was due, or it fell due meanwhile): at once.
    return max(0.0, min(look_again, (due - _now()).total_seconds()))


def chore(settings: Settings) -> Chore:
    """The reminder pass, run by the delivery worker when the next reminder falls due."""
    return Chore(
        "reminders",
        partial(
            reminder_pass,
            settings.milestone_reminder_delay_seconds,
            settings.milestone_reminder_check_seconds,
        ),
    )
