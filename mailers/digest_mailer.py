"""E-mails that gather several milestone changes: a batch (one project) and a daily digest.

Each tells the net change to every milestone, worked out by services.net_changes; these
functions only render (templates `milestone_digest.txt` and `.html`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from mailers.render import RenderedEmail, render


@dataclass(frozen=True, slots=True)
class FieldDiff:
    """One field's value before the first change and after the last one."""

    label: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class MilestoneLine:
    """The net change to one milestone: "added", "deleted" or "changed" (with `diffs`)."""

    change: str
    title: str
    due_date: str
    diffs: tuple[FieldDiff, ...] = ()


@dataclass(frozen=True, slots=True)
class ProjectNews:
    """The net changes to the milestones of one project."""

    project_title: str
    lines: tuple[MilestoneLine, ...]


def _count(projects: Sequence[ProjectNews]) -> int:
    return sum(len(p.lines) for p in projects)


def milestone_batch(
    *, recipient_name: str, news: ProjectNews, unsubscribe_url: str | None
) -> RenderedEmail:
    """The changes made to one project's milestones within a few minutes."""
    count = len(news.lines)
    return render(
        "milestone_batch",
        f"{count} milestone change{'s' if count != 1 else ''}: “{news.project_title}”",
        "milestone_digest",
        unsubscribe_url=unsubscribe_url,
        recipient_name=recipient_name,
        heading=f"The milestones of “{news.project_title}” changed:",
        projects=[news],
        project_title=news.project_title,
    )


def milestone_digest(
    *,
    recipient_name: str,
    projects: Sequence[ProjectNews],
    day: dt.date,
    unsubscribe_url: str | None,
) -> RenderedEmail:
    """The day's changes to the milestones of every project of the recipient's."""
    count = _count(projects)
    titles = [p.project_title for p in projects]
    return render(
        "milestone_digest",
        f"Daily digest for {day.isoformat()}: {count} milestone change{'s' if count != 1 else ''}",
        "milestone_digest",
        unsubscribe_url=unsubscribe_url,
        recipient_name=recipient_name,
        heading="Since the last digest, these milestones changed:",
        projects=projects,
        # One project is named in the footer like any e-mail; several are named in the text.
        project_title=titles[0] if len(titles) == 1 else None,
    )
