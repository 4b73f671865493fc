"""The milestone e-mails: one function per e-mail, each choosing its subject and values.

Recipients are chosen by services.notifications; these functions only render. The wording
is in the templates of the same name (`milestone_added.txt`, `milestone_added.html`, ...).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

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
) -> RenderedEmail:
    """To the freelancer: milestones were unlocked a while ago and none has been added."""
    return render(
        "milestone_reminder",
        f"Reminder: add the milestones of “{project_title}”",
        "milestone_reminder",
        recipient_name=recipient_name,
        project_title=project_title,
        unlocked_on=unlocked_on,
        completion_date=completion_date,
    )


def _milestone_event(
    kind: str,
    verb: str,
    template: str,
    *,
    milestone_title: str,
    **values: object,
) -> RenderedEmail:
    """An e-mail to the client about one milestone; `verb` says what happened to it."""
    return render(
        kind,
        f"Milestone {verb}: “{milestone_title}”",
        template,
        verb=verb,
        milestone_title=milestone_title,
        **values,
    )


def milestone_added(
    *,
    recipient_name: str,
    actor_name: str,
    project_title: str,
    milestone_title: str,
    description: str,
    due_date: dt.date,
) -> RenderedEmail:
    """A milestone was added; its description, if any, follows."""
    return _milestone_event(
        "milestone_added",
        "added",
        "milestone_added",
        recipient_name=recipient_name,
        actor_name=actor_name,
        project_title=project_title,
        milestone_title=milestone_title,
        due_date=due_date,
        description=description,
    )


def milestone_edited(
    *,
    recipient_name: str,
    actor_name: str,
    project_title: str,
    milestone_title: str,
    due_date: dt.date,
    changes: Sequence[FieldChange],
) -> RenderedEmail:
    """A milestone was edited: each changed field with its old and new value."""
    return _milestone_event(
        "milestone_edited",
        "edited",
        "milestone_edited",
        recipient_name=recipient_name,
        actor_name=actor_name,
        project_title=project_title,
        milestone_title=milestone_title,
        due_date=due_date,
        changes=changes,
    )


def milestone_deleted(
    *,
    recipient_name: str,
    actor_name: str,
    project_title: str,
    milestone_title: str,
    due_date: dt.date,
) -> RenderedEmail:
    """A milestone was deleted."""
    return _milestone_event(
        "milestone_deleted",
        "deleted",
        "milestone_event",
        recipient_name=recipient_name,
        actor_name=actor_name,
        project_title=project_title,
        milestone_title=milestone_title,
        due_date=due_date,
    )


def milestone_completed(
    *,
    recipient_name: str,
    actor_name: str,
    project_title: str,
    milestone_title: str,
    due_date: dt.date,
) -> RenderedEmail:
    """A milestone was marked completed."""
    return _milestone_event(
        "milestone_completed",
        "completed",
        "milestone_event",
        recipient_name=recipient_name,
        actor_name=actor_name,
        project_title=project_title,
        milestone_title=milestone_title,
        due_date=due_date,
    )


def milestone_reopened(
    *,
    recipient_name: str,
    actor_name: str,
    project_title: str,
    milestone_title: str,
    due_date: dt.date,
) -> RenderedEmail:
    """A completed milestone was reopened."""
    return _milestone_event(
        "milestone_reopened",
        "reopened",
        "milestone_event",
        recipient_name=recipient_name,
        actor_name=actor_name,
        project_title=project_title,
        milestone_title=milestone_title,
        due_date=due_date,
    )
