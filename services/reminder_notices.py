"""What the deadline reminders tell people: the due-soon and overdue e-mails, and the chat
event of a milestone that became overdue; and the client's reminder of a coming automatic
acceptance.

Called by the worker that settles each reminder (services/deadline_reminders.py,
services/auto_acceptance.py), inside that settling's UnitOfWork. Reminders follow each member's reminders setting
(services/mail_preferences.py), and carry the unsubscribe link of that kind.
"""

from __future__ import annotations

import datetime as dt

from infra.outbox import enqueue
from infra.unit_of_work import UnitOfWork
from mailers import milestone_mailer
from mailers.milestone_mailer import AcceptanceReminder, Deadline
from models import ChatEventKind, Milestone, Project, User
from services.deadlines import zone
from services.mail_preferences import MailKind, gets_mail, unsubscribe_url
from services.notifications import post_event


def _deadline(project: Project, milestone: Milestone, to: User, link: str) -> Deadline:
    return Deadline(
        recipient_name=to.name,
        project_title=project.title,
        milestone_title=milestone.title,
        due_date=milestone.due_date,
        time_zone=project.time_zone,
        link=link,
        unsubscribe_url=unsubscribe_url(to, MailKind.REMINDERS),
    )


async def milestone_due_soon(project: Project, milestone: Milestone, days: int, link: str) -> None:
    """The due-soon reminder goes to the freelancer, who does the work, unless they turned
    reminders off."""
    freelancer = await project.freelancer
    if not gets_mail(freelancer, MailKind.REMINDERS):
        return
    email = milestone_mailer.milestone_due_soon(
        _deadline(project, milestone, freelancer, link), days=days
    )
    await enqueue(email, to=freelancer, project_id=project.id)


async def milestone_overdue(
    work: UnitOfWork,
    project: Project,
    milestone: Milestone,
    days_late: int,
    *,
    repeat: bool,
    link: str,
) -> None:
    """An overdue milestone is e-mailed to both members (those who did not turn reminders
    off), and posted to the chat unless this is a `repeat` (the chat says it once per time
    the milestone becomes overdue)."""
    if not repeat:
        due = f"{milestone.due_date.isoformat()} ({project.time_zone})"
        body = f"The milestone “{milestone.title}” is overdue: it was due {due} and is still open."
        kind = ChatEventKind.MILESTONE_OVERDUE
        await post_event(work, project, kind, body, actor=None, milestone=milestone)
    for member in (await project.freelancer, await project.client):
        if not gets_mail(member, MailKind.REMINDERS):
            continue
        email = milestone_mailer.milestone_overdue(
            _deadline(project, milestone, member, link), days_late=days_late
        )
        await enqueue(email, to=member, project_id=project.id)


async def acceptance_reminder(
    project: Project, milestone: Milestone, accept_at: dt.datetime, link: str
) -> bool:
    """The client, whose word the completed milestone waits for, is told the day before it
    is accepted for them at `accept_at`, unless they turned reminders off; False then."""
    client = await project.client
    if not gets_mail(client, MailKind.REMINDERS):
        return False
    freelancer = await project.freelancer
    reminder = AcceptanceReminder(
        recipient_name=client.name,
        freelancer_name=freelancer.name,
        project_title=project.title,
        milestone_title=milestone.title,
        accept_at=accept_at.astimezone(zone(project.time_zone)),
        time_zone=project.time_zone,
        link=link,
        unsubscribe_url=unsubscribe_url(client, MailKind.REMINDERS),
    )
    await enqueue(milestone_mailer.acceptance_reminder(reminder), to=client, project_id=project.id)
    return True
