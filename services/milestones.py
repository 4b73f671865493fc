"""Milestones: the freelancer adds, edits, ticks, unticks and deletes them.

Each change validates its input first, then runs in one UnitOfWork with the chat event and
the e-mail it causes; a change that changes nothing posts and sends nothing. Callers have
authorized the actor (`services.access.can_change_milestones`) on the objects they pass.
A milestone the client accepted is final (services/acceptance.py): editing, unticking and
deleting it are refused, under the lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from infra.unit_of_work import UnitOfWork, atomic
from models import FieldChange, Milestone, Project, User
from models.rows import MILESTONE_ROWS, MilestoneRow
from services import deadline_reminders, deadlines, notifications
from services.acceptance import Action, save_completion, transition
from services.errors import UserInputError
from services.validation import Checker

TITLE_MAX = 120
DESCRIPTION_MAX = 2000
# The most milestones one project holds: it bounds every read of a project's milestones.
# A project's milestones come as one list: its size is what the query cost limit counts for
# it, so 50 projects with their milestones (5,050 nodes) fit under that limit.
MAX_MILESTONES = 100


async def listed(project_ids: Sequence[int]) -> dict[int, list[MilestoneRow]]:
    """Each project's milestones, always chronological: due date, then the order added.

    One query for any number of projects, read in the order of the (project_id, due_date,
    id) index, so the database sorts nothing. The keys are ints formatted with %d: nothing
    from a request reaches the SQL text.
    """
    ids = sorted({int(pid) for pid in project_ids})
    found: dict[int, list[MilestoneRow]] = {pid: [] for pid in ids}
    if not ids:
        return found
    keys = ", ".join(f"{pid:d}" for pid in ids)
    order = '"project_id", "due_date", "id"'
    sql = f'{MILESTONE_ROWS.select()} WHERE "project_id" IN ({keys}) ORDER BY {order}'
    for row in await MILESTONE_ROWS.fetch(sql):
        found[row.project_id].append(row)
    return found


def _require_unlocked(project: Project) -> None:
    # Unlocking is never undone, so checking before the lock is as good as under it.
    if not project.milestones_unlocked:
        raise UserInputError.single(
            "MILESTONES_LOCKED", None, "The project's milestones are not unlocked yet."
        )


async def _relock(work: UnitOfWork, milestone: Milestone) -> tuple[Project, Milestone]:
    """Lock the milestone's project, and re-read the milestone under that lock: a concurrent
    change may have committed since it was authorized."""
    project = await work.lock_project(milestone.project_id)
    return project, await Milestone.get(id=milestone.id)


async def add_milestone(
    actor: User, project: Project, *, title: str, description: str, due_date: dt.date
) -> tuple[Project, Milestone]:
    _require_unlocked(project)
    check = Checker()
    title = check.line("title", title, label="Title", max_length=TITLE_MAX)
    description = check.text(
        "description", description, label="Description", max_length=DESCRIPTION_MAX
    )
    today = deadlines.today(project.time_zone)
    check.future_date("dueDate", due_date, label="Due date", today=today)
    check.done()
    async with atomic() as work:
        project = await work.lock_project(project.id)
        # Counted under the project lock, so concurrent adds cannot pass the cap together.
        if await Milestone.filter(project_id=project.id).count() >= MAX_MILESTONES:
            raise UserInputError.single(
                "INVALID",
                None,
                f"A project holds at most {MAX_MILESTONES} milestones; delete one to add another.",
            )
        milestone = await Milestone.create(
            project=project, title=title, description=description, due_date=due_date
        )
        await notifications.milestone_added(work, project, milestone, actor)
        await deadline_reminders.arm([milestone], project.time_zone)
    return project, milestone


def _edited_values(
    milestone: Milestone, title: str | None, description: str | None, due_date: dt.date | None
) -> dict[str, object]:
    # `milestone.project` is loaded (schema/authorize.py); its zone says which day is today.
    """The cleaned new values of the fields the input names; raises UserInputError."""
    check = Checker()
    new: dict[str, object] = {}
    if title is not None:
        new["title"] = check.line("title", title, label="Title", max_length=TITLE_MAX)
    if description is not None:
        new["description"] = check.text(
            "description", description, label="Description", max_length=DESCRIPTION_MAX
        )
    # A milestone already past due may keep its date; a new date must not be in the past.
    if due_date is not None:
        same = due_date == milestone.due_date
        new["dueDate"] = (
            due_date
            if same
            else check.future_date(
                "dueDate",
                due_date,
                label="Due date",
                today=deadlines.today(milestone.project.time_zone),
            )
        )
    check.done()
    return new


def _text(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


async def edit_milestone(
    actor: User,
    milestone: Milestone,
    *,
    title: str | None,
    description: str | None,
    due_date: dt.date | None,
) -> tuple[Project, Milestone]:
    _require_unlocked(milestone.project)
    new = _edited_values(milestone, title, description, due_date)
    async with atomic() as work:
        project, milestone = await _relock(work, milestone)
        transition(milestone, Action.EDIT)
        old = {
            "title": milestone.title,
            "description": milestone.description,
            "dueDate": milestone.due_date,
        }
        changes = [
            FieldChange(field, _text(old[field]), _text(new[field]))
            for field in ("title", "description", "dueDate")
            if field in new and new[field] != old[field]
        ]
        if not changes:
            return project, milestone
        milestone.title = str(new.get("title", milestone.title))
        milestone.description = str(new.get("description", milestone.description))
        milestone.due_date = new.get("dueDate", milestone.due_date)  # type: ignore[assignment]  # a date, checked above
        milestone.sequence += 1  # calendar apps update their copy of the event
        await milestone.save(
            update_fields=["title", "description", "due_date", "sequence", "updated_at"]
        )
        await notifications.milestone_edited(work, project, milestone, actor, changes)
        if any(change.field == "dueDate" for change in changes):
            await deadline_reminders.arm([milestone], project.time_zone)
    return project, milestone


async def set_milestone_completed(
    actor: User, milestone: Milestone, completed: bool
) -> tuple[Project, Milestone]:
    _require_unlocked(milestone.project)
    async with atomic() as work:
        project, milestone = await _relock(work, milestone)
        if transition(milestone, Action.TICK if completed else Action.UNTICK) is milestone.state:
            return project, milestone
        await save_completion(milestone, actor if completed else None)
        await notifications.milestone_completion_changed(work, project, milestone, actor, completed)
        # Completing drops what was waiting; reopening plans what is ahead again.
        await deadline_reminders.arm([milestone], project.time_zone)
    return project, milestone


async def delete_milestone(actor: User, milestone: Milestone) -> Project:
    _require_unlocked(milestone.project)
    async with atomic() as work:
        project, milestone = await _relock(work, milestone)
        transition(milestone, Action.DELETE)
        await notifications.milestone_deleted(work, project, milestone, actor)
        await milestone.delete()
    return project
