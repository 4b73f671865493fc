"""Projects: creation, listing, the initial payment, and the admin's milestone unlock."""

from __future__ import annotations

import datetime as dt

from infra.unit_of_work import atomic
from models import Milestone, Project, Role, User
from services import access, deadline_reminders, deadlines, notifications
from services.errors import UserInputError
from services.validation import Checker

TITLE_MAX = 200
DESCRIPTION_MAX = 5000


async def _user_with_role(
    check: Checker, field: str, user_id: int, role: Role, label: str
) -> User | None:
    user = await User.get_or_none(id=user_id) if user_id > 0 else None
    if user is None or user.role != role:
        check.fail("INVALID", field, f"No {label} has this ID.")
        return None
    return user


async def _client(check: Checker, viewer: User, client_id: int | None) -> User | None:
    """The project's client: the viewer, or for an admin the client they name."""
    if not access.is_admin(viewer):
        if client_id is not None and client_id != viewer.id:
            check.fail("INVALID", "clientId", "Only admins create projects for another client.")
        return viewer
    if client_id is None:
        check.fail("BLANK", "clientId", "Choose the client of the project.")
        return None
    return await _user_with_role(check, "clientId", client_id, Role.CLIENT, "client")


async def create_project(
    viewer: User,
    *,
    title: str,
    description: str,
    freelancer_id: int,
    client_id: int | None,
    completion_date: dt.date,
    initial_payment_required: bool,
    time_zone: str | None = None,
) -> Project:
    """`freelancer_id`, `client_id`: user keys, 0 for an ID that names no user; `client_id`
    None when none was given. Callers have checked `access.can_create_projects`."""
    check = Checker()
    title = check.line("title", title, label="Title", max_length=TITLE_MAX)
    description = check.text(
        "description", description, label="Description", max_length=DESCRIPTION_MAX
    )
    zone = _time_zone(check, time_zone) if time_zone is not None else deadlines.DEFAULT_TIME_ZONE
    today = deadlines.today(zone)
    check.future_date("completionDate", completion_date, label="Completion date", today=today)
    freelancer = await _user_with_role(
        check, "freelancerId", freelancer_id, Role.FREELANCER, "freelancer"
    )
    client = await _client(check, viewer, client_id)
    check.done()
    assert client is not None and freelancer is not None
    return await Project.create(
        title=title,
        description=description,
        client=client,
        freelancer=freelancer,
        completion_date=completion_date,
        initial_payment_required=initial_payment_required,
        time_zone=zone,
    )


def _time_zone(check: Checker, name: str) -> str:
    name = name.strip()
    if not deadlines.is_time_zone(name):
        check.fail(
            "INVALID", "timeZone", "Time zone must be an IANA name such as Europe/Berlin or UTC."
        )
        return deadlines.DEFAULT_TIME_ZONE
    return name


async def set_time_zone(project: Project, time_zone: str) -> Project:
    """The zone in which the project's due dates end; re-plans its milestones' reminders.

    Callers have checked `access.can_set_time_zone`. Setting the same zone changes nothing.
    """
    check = Checker()
    zone = _time_zone(check, time_zone)
    check.done()
    async with atomic() as work:
        project = await work.lock_project(project.id)
        if project.time_zone == zone:
            return project
        project.time_zone = zone
        await project.save(update_fields=["time_zone"])
        milestones = await Milestone.filter(project_id=project.id, completed_at__isnull=True)
        await deadline_reminders.arm(milestones, zone)
    return project


async def projects_page(
    viewer: User, first: int, after: int | None
) -> tuple[list[Project], bool, bool, int]:
    """The viewer's projects, newest first: (page, has next, has previous, total count)."""
    query = access.projects_seen_by(viewer)
    total = await query.count()
    page_query = query.filter(id__lt=after) if after is not None else query
    rows = await page_query.order_by("-id").limit(first + 1)
    has_previous = after is not None and await query.filter(id__gte=after).exists()
    return rows[:first], len(rows) > first, has_previous, total


async def record_initial_payment(project: Project) -> Project:
    """Idempotent: a second call changes nothing."""
    async with atomic() as work:
        project = await work.lock_project(project.id)
        if project.initial_payment_completed_at is None:
            project.initial_payment_completed_at = dt.datetime.now(dt.UTC)
            await project.save(update_fields=["initial_payment_completed_at"])
    return project


async def unlock_milestones(admin: User, project: Project) -> Project:
    """Idempotent: unlocking an unlocked project posts nothing and sends nothing."""
    async with atomic() as work:
        project = await work.lock_project(project.id)
        if project.milestones_unlocked:
            return project
        if project.initial_payment_required and project.initial_payment_completed_at is None:
            raise UserInputError.single(
                "INITIAL_PAYMENT_PENDING",
                None,
                "The client's initial payment is not recorded yet.",
            )
        project.milestones_unlocked_at = dt.datetime.now(dt.UTC)
        await project.save(update_fields=["milestones_unlocked_at"])
        await notifications.milestones_unlocked(work, project, admin)
    return project
