"""The milestone e-mails: one function per e-mail, each choosing its subject and values.

Recipients are chosen by services.notifications; these functions only render.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mailers.render import RenderedEmail, render


@dataclass(frozen=True, slots=True)
class Change:
    """One edited field for the edit e-mail: a label and its old and new value as text."""

    label: str
    old: str
    new: str


def _date(value: dt.date) -> str:
    return value.isoformat()


def milestones_unlocked(
    *, recipient_name: str, actor_name: str, project_title: str, completion_date: dt.date
) -> RenderedEmail:
    return render(
        "milestones_unlocked",
        f"Milestones unlocked: “{project_title}”",
        "milestones_unlocked",
        {
            "recipient_name": recipient_name,
            "actor_name": actor_name,
            "project_title": project_title,
            "completion_date": _date(completion_date),
        },
    )


def milestone_reminder(
    *,
    recipient_name: str,
    project_title: str,
    unlocked_on: dt.date,
    completion_date: dt.date,
) -> RenderedEmail:
    return render(
        "milestone_reminder",
        f"Reminder: add the milestones of “{project_title}”",
        "milestone_reminder",
        {
            "recipient_name": recipient_name,
            "project_title": project_title,
            "unlocked_on": _date(unlocked_on),
            "completion_date": _date(completion_date),
        },
    )


def _milestone_event(
    kind: str,
    subject: str,
    summary: str,
    *,
    recipient_name: str,
    project_title: str,
    milestone_title: str,
    due_date: dt.date,
    details_text: str = "",
    details_html: str = "",
) -> RenderedEmail:
    return render(
        kind,
        subject,
        "milestone_event",
        {
            "recipient_name": recipient_name,
            "project_title": project_title,
            "summary": summary,
            "milestone_title": milestone_title,
            "due_date": _date(due_date),
            "details": details_text,
        },
        safe_html={"details": details_html},
    )


def _description(description: str) -> tuple[str, str]:
    if not description:
        return "", ""
    return (
        f"\n{description}\n",
        f'<p style="white-space: pre-wrap;">{html.escape(description)}</p>',
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
    text, markup = _description(description)
    return _milestone_event(
        "milestone_added",
        f"Milestone added: “{milestone_title}”",
        f"{actor_name} added a milestone to “{project_title}”.",
        recipient_name=recipient_name,
        project_title=project_title,
        milestone_title=milestone_title,
        due_date=due_date,
        details_text=text,
        details_html=markup,
    )


def milestone_edited(
    *,
    recipient_name: str,
    actor_name: str,
    project_title: str,
    milestone_title: str,
    due_date: dt.date,
    changes: Sequence[Change],
) -> RenderedEmail:
    text = "\nWhat changed:\n" + "\n".join(f"- {c.label}: {c.old} → {c.new}" for c in changes)
    rows = "".join(
        f"<li><strong>{html.escape(c.label)}</strong>: <del>{html.escape(c.old)}</del>"
        f" &rarr; <ins>{html.escape(c.new)}</ins></li>"
        for c in changes
    )
    return _milestone_event(
        "milestone_edited",
        f"Milestone edited: “{milestone_title}”",
        f"{actor_name} edited a milestone of “{project_title}”.",
        recipient_name=recipient_name,
        project_title=project_title,
        milestone_title=milestone_title,
        due_date=due_date,
        details_text=text + "\n",
        details_html=f"<p>What changed:</p><ul>{rows}</ul>",
    )


def _status_email(kind: str, verb: str) -> Callable[..., RenderedEmail]:
    """The e-mail for a change that is told in one verb: deleted, completed, reopened."""

    def render_email(
        *,
        recipient_name: str,
        actor_name: str,
        project_title: str,
        milestone_title: str,
        due_date: dt.date,
    ) -> RenderedEmail:
        return _milestone_event(
            kind,
            f"Milestone {verb}: “{milestone_title}”",
            f"{actor_name} {verb} a milestone of “{project_title}”.",
            recipient_name=recipient_name,
            project_title=project_title,
            milestone_title=milestone_title,
            due_date=due_date,
        )

    render_email.__name__ = kind
    return render_email


milestone_deleted = _status_email("milestone_deleted", "deleted")
milestone_completed = _status_email("milestone_completed", "completed")
milestone_reopened = _status_email("milestone_reopened", "reopened")
