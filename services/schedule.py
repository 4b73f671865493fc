"""Schedule hints computed from a project's milestones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from models import Milestone, Project
from models.rows import MilestoneRow


@dataclass(frozen=True, slots=True)
class Warning:
    code: str
    message: str


def schedule_warnings(
    project: Project, milestones: Sequence[Milestone | MilestoneRow]
) -> list[Warning]:
    """`milestones` in chronological order."""
    if not milestones:
        return []
    last = milestones[-1].due_date
    if last != project.completion_date:
        when = "before" if last < project.completion_date else "after"
        return [
            Warning(
                "LAST_MILESTONE_NOT_ON_COMPLETION_DATE",
                f"The last milestone is due {last.isoformat()}, {when} the project's "
                f"completion date {project.completion_date.isoformat()}.",
            )
        ]
    return []
