"""The "add your milestones" reminder: once per project, decided when the delay runs out.

The delivery worker runs `queue_due_reminders` as a chore (see `chore`). Each due project is claimed by
a conditional UPDATE of `milestone_reminder_queued_at` in the same transaction that queues
the e-mail, so however many workers run, and however often they restart, one wins, once.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial

from tortoise.transactions import in_transaction

from infra.mail_worker import Chore
from infra.outbox import enqueue
from mailers import milestone_mailer
from models import Milestone, Project
from settings import Settings

logger = logging.getLogger("milestones.mail")

BATCH = 100


async def _remind(project_id: int, now: dt.datetime) -> bool:
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
        unlocked_at = project.milestones_unlocked_at or now
        email = milestone_mailer.milestone_reminder(
            recipient_name=freelancer.name,
            project_title=project.title,
            unlocked_on=unlocked_at.date(),
            completion_date=project.completion_date,
        )
        await enqueue(email, to=freelancer, project_id=project.id)
    logger.info("queued the milestone reminder of project %s", project_id)
    return True


async def queue_due_reminders(delay_seconds: float, *, now: dt.datetime | None = None) -> int:
    """Queue the reminders due at `now`; returns how many e-mails were queued."""
    now = now or dt.datetime.now(dt.UTC)
    cutoff = now - dt.timedelta(seconds=delay_seconds)
    due = (
        await Project.filter(
            milestones_unlocked_at__isnull=False,
            milestones_unlocked_at__lte=cutoff,
            milestone_reminder_queued_at__isnull=True,
        )
        .order_by("milestones_unlocked_at")
        .limit(BATCH)
        .values_list("id", flat=True)
    )
    queued = 0
    for project_id in due:
        queued += await _remind(int(project_id), now)  # type: ignore[call-overload]  # Tortoise types flat values_list rows as tuples
    return queued


def chore(settings: Settings) -> Chore:
    """The reminder pass, run by the delivery worker every MILESTONE_REMINDER_CHECK_SECONDS."""
    return Chore(
        settings.milestone_reminder_check_seconds,
        partial(queue_due_reminders, settings.milestone_reminder_delay_seconds),
    )
