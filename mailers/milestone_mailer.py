"""The milestone e-mails: one function per e-mail, each choosing its subject and values.

Recipients are chosen by services.notifications; these functions only render. The wording
is in the templates of the same name (`milestone_added.txt`, `milestone_added.html`, ...).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from mailers.render import RenderedEmail, render
from models import FieldChange


def milestones_unlocked(
    *, recipient_name: str, actor_name: str, project_title: str, completion_date: dt.date
) -> RenderedEmail:
    """To the freelancer: the project's milestones can now be added."""
    return render(
        "milestones_unlocked",
        f"Milestones unlocked: “{project_title}”",
        "milestones_unlocked",
        recipient_name=recipient_name,
        actor_name=actor_name,
        project_title=project_title,
        completion_date=completion_date,
    )


def milestone_reminder(
    *,
    recipient_name: str,
    project_title: str,
    unlocked_on: dt.date,
    completion_date: dt.date,
    unsubscribe_url: str | None = None,
) -> RenderedEmail:
    """To the freelancer: milestones were unlocked a while ago and none has been added."""
    return render(
        "milestone_reminder",
        f"Reminder: add the milestones of “{project_title}”",
        "milestone_reminder",
        unsubscribe_url=unsubscribe_url,
        recipient_name=recipient_name,
        project_title=project_title,
        unlocked_on=unlocked_on,
        completion_date=completion_date,
    )


@dataclass(frozen=True, slots=True)
class MilestoneNews:
    """What every e-mail about one milestone tells: to whom, who did it, to which milestone."""

    recipient_name: str
    actor_name: str
    project_title: str
    milestone_title: str
    due_date: dt.date
    # The project's IANA time zone, named beside the due date (None: the date alone).
    time_zone: str | None = None
    # Where the recipient turns these e-mails off with one click (None: no link).
    unsubscribe_url: str | None = None


def _milestone_event(
    news: MilestoneNews,
    verb: str,
    template: str = "milestone_event",
    subject: str | None = None,
    **values: object,
) -> RenderedEmail:
    """An e-mail about one milestone; `verb` says what happened to it."""
    return render(
        f"milestone_{verb}",
        f"{subject or f'Milestone {verb}'}: “{news.milestone_title}”",
        template,
        unsubscribe_url=news.unsubscribe_url,
        verb=verb,
        recipient_name=news.recipient_name,
        actor_name=news.actor_name,
        project_title=news.project_title,
        milestone_title=news.milestone_title,
        due_date=news.due_date,
        time_zone=news.time_zone,
        **values,
    )


def milestone_added(news: MilestoneNews, *, description: str) -> RenderedEmail:
    """A milestone was added; its description, if any, follows."""
    return _milestone_event(news, "added", "milestone_added", description=description)


def milestone_edited(news: MilestoneNews, *, changes: Sequence[FieldChange]) -> RenderedEmail:
    """A milestone was edited; each changed field is listed with its old and new value."""
    return _milestone_event(news, "edited", "milestone_edited", changes=changes)


def milestone_deleted(news: MilestoneNews) -> RenderedEmail:
    """A milestone was deleted."""
    return _milestone_event(news, "deleted")


def milestone_completed(news: MilestoneNews) -> RenderedEmail:
    """A milestone was marked completed."""
    return _milestone_event(news, "completed")


def milestone_reopened(news: MilestoneNews) -> RenderedEmail:
    """A completed milestone was reopened."""
    return _milestone_event(news, "reopened")


def milestone_accepted(news: MilestoneNews, *, automatic: bool) -> RenderedEmail:
    """To the freelancer: the client accepted a completed milestone, or (`automatic`) it was
    accepted because the client said nothing in time."""
    return _milestone_event(news, "accepted", "milestone_accepted", automatic=automatic)


def milestone_changes_requested(news: MilestoneNews, *, reason: str) -> RenderedEmail:
    """To the freelancer: the client sent a completed milestone back; their reason follows."""
    return _milestone_event(
        news,
        "changes_requested",
        "milestone_changes_requested",
        "Changes requested",
        reason=reason,
    )


@dataclass(frozen=True, slots=True)
class Deadline:
    """What a reminder tells about one milestone's due date."""

    recipient_name: str
    project_title: str
    milestone_title: str
    due_date: dt.date
    time_zone: str
    # Where the client app is, when PUBLIC_URL is set; empty: no link.
    link: str = ""
    # Where the recipient turns reminders off with one click (None: no link).
    unsubscribe_url: str | None = None


def milestone_due_soon(deadline: Deadline, *, days: int) -> RenderedEmail:
    """To the freelancer: an open milestone is due in `days` days (0: today)."""
    when = {0: "today", 1: "tomorrow"}.get(days, f"in {days} days")
    return render(
        "milestone_due_soon",
        f"Due {when}: “{deadline.milestone_title}”",
        "milestone_due_soon",
        unsubscribe_url=deadline.unsubscribe_url,
        when=when,
        **_deadline_values(deadline),
    )


def milestone_overdue(deadline: Deadline, *, days_late: int) -> RenderedEmail:
    """To the freelancer and the client: an open milestone's due day has ended."""
    return render(
        "milestone_overdue",
        f"Overdue: “{deadline.milestone_title}”",
        "milestone_overdue",
        unsubscribe_url=deadline.unsubscribe_url,
        days_late=days_late,
        **_deadline_values(deadline),
    )


@dataclass(frozen=True, slots=True)
class AcceptanceReminder:
    """What the client is told the day before a completed milestone is accepted for them."""

    recipient_name: str
    freelancer_name: str
    project_title: str
    milestone_title: str
    # The moment of automatic acceptance, as the project's zone (named beside it) reads it.
    accept_at: dt.datetime
    time_zone: str
    # Where the client app is, when PUBLIC_URL is set; empty: no link.
    link: str = ""
    # Where the recipient turns reminders off with one click (None: no link).
    unsubscribe_url: str | None = None


def acceptance_reminder(reminder: AcceptanceReminder) -> RenderedEmail:
    """To the client: a milestone waiting for their word is accepted automatically tomorrow."""
    return render(
        "acceptance_reminder",
        f"Accepted tomorrow unless you answer: “{reminder.milestone_title}”",
        "acceptance_reminder",
        unsubscribe_url=reminder.unsubscribe_url,
        recipient_name=reminder.recipient_name,
        freelancer_name=reminder.freelancer_name,
        project_title=reminder.project_title,
        milestone_title=reminder.milestone_title,
        accept_at=reminder.accept_at.strftime("%Y-%m-%d at %H:%M"),
        time_zone=reminder.time_zone,
        link=reminder.link,
    )


def _deadline_values(deadline: Deadline) -> dict[str, object]:
    return {
        "recipient_name": deadline.recipient_name,
        "project_title": deadline.project_title,
        "milestone_title": deadline.milestone_title,
        "due_date": deadline.due_date,
        "time_zone": deadline.time_zone,
        "link": deadline.link,
    }
