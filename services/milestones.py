"""Milestones: the freelancer adds, edits, ticks, unticks and deletes them.

Each change runs in one UnitOfWork with the chat event and the e-mail it causes; a change
that changes nothing posts and sends nothing.
"""

from __future__ import annotations

import datetime as dt

from infra.unit_of_work import UnitOfWork, atomic
from models import FieldChange, Milestone, Project, User
from services import notifications
from services.errors import UserInputError
from services.validation import Checker

TITLE_MAX = 120
DESCRIPTION_MAX = 2000


def _require_unlocked(project: Project) -> None:
    if not project.milestones_unlocked:
        raise UserInputError.single(
            "MILESTONES_LOCKED", None, "The project's milestones are not unlocked yet."
        )


async def _locked_milestone(work: UnitOfWork, milestone_id: int) -> tuple[Project, Milestone]:
    milestone = await Milestone.get(id=milestone_id)
    project = await work.lock_project(milestone.project_id)  # type: ignore[attr-defined]
    # Re-read under the project lock: a concurrent change may have committed meanwhile.
    milestone = await Milestone.get(id=milestone_id)
    _require_unlocked(project)
    return project, milestone


async def add_milestone(
    actor: User, project_id: int, *, title: str, description: str, due_date: dt.date
) -> tuple[Project, Milestone]:
    async with atomic() as work:
        project = await work.lock_project(project_id)
        _require_unlocked(project)
        check = Checker()
        title = check.line("title", title, label="Title", max_length=TITLE_MAX)
        description = check.text(
            "description", description, label="Description", max_length=DESCRIPTION_MAX
        )
        check.future_date("dueDate", due_date, label="Due date")
        check.done()
        milestone = await Milestone.create(
            project=project, title=title, description=description, due_date=due_date
        )
        await notifications.milestone_added(work, project, milestone, actor)
    return project, milestone


async def edit_milestone(
    actor: User,
    milestone_id: int,
    *,
    title: str | None,
    description: str | None,
    due_date: dt.date | None,
) -> tuple[Project, Milestone]:
    async with atomic() as work:
        project, milestone = await _locked_milestone(work, milestone_id)
        check = Checker()
        new = {
            "title": milestone.title,
            "description": milestone.description,
            "dueDate": milestone.due_date,
        }
        if title is not None:
            new["title"] = check.line("title", title, label="Title", max_length=TITLE_MAX)
        if description is not None:
            new["description"] = check.text(
                "description", description, label="Description", max_length=DESCRIPTION_MAX
            )
        # A milestone already past due may keep its date; a new date must not be in the past.
        if due_date is not None and due_date != milestone.due_date:
            new["dueDate"] = check.future_date("dueDate", due_date, label="Due date")
        check.done()
        old = {
            "title": milestone.title,
            "description": milestone.description,
            "dueDate": milestone.due_date,
        }
        changes = [
            FieldChange(field, _text(old[field]), _text(new[field]))
            for field in ("title", "description", "dueDate")
            if new[field] != old[field]
        ]
        if not changes:
            return project, milestone
        milestone.title = str(new["title"])
        milestone.description = str(new["description"])
        milestone.due_date = new["dueDate"]  # type: ignore[assignment]
        await milestone.save(update_fields=["title", "description", "due_date", "updated_at"])
        await notifications.milestone_edited(work, project, milestone, actor, changes)
    return project, milestone


def _text(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


async def set_milestone_completed(
    actor: User, milestone_id: int, completed: bool
) -> tuple[Project, Milestone]:
    async with atomic() as work:
        project, milestone = await _locked_milestone(work, milestone_id)
        if (milestone.completed_at is not None) == completed:
            return project, milestone
        milestone.completed_at = dt.datetime.now(dt.UTC) if completed else None
        milestone.completed_by = actor if completed else None  # type: ignore[assignment]
        await milestone.save(update_fields=["completed_at", "completed_by_id", "updated_at"])
        await notifications.milestone_completion_changed(work, project, milestone, actor, completed)
    return project, milestone


async def delete_milestone(actor: User, milestone_id: int) -> Project:
    async with atomic() as work:
        project, milestone = await _locked_milestone(work, milestone_id)
        await notifications.milestone_deleted(work, project, milestone, actor)
        await milestone.delete()
    return project
