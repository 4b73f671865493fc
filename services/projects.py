"""Projects: creation, the initial payment, and the admin's milestone unlock."""

from __future__ import annotations

import datetime as dt

from infra.unit_of_work import atomic
from models import Project, Role, User
from schema.ids import pk_of
from services import notifications
from services.errors import UserInputError
from services.validation import Checker


async def _user_with_role(
    check: Checker, field: str, global_id: str, role: Role, label: str
) -> User | None:
    pk = pk_of(global_id, "User")
    user = await User.get_or_none(id=pk) if pk else None
    if user is None or user.role != role:
        check.fail("INVALID", field, f"No {label} has this ID.")
        return None
    return user


async def create_project(
    viewer: User,
    *,
    title: str,
    description: str,
    freelancer_id: str,
    client_id: str | None,
    completion_date: dt.date,
    initial_payment_required: bool,
) -> Project:
    check = Checker()
    title = check.line("title", title, label="Title", max_length=200)
    description = check.text("description", description, label="Description", max_length=5000)
    check.future_date("completionDate", completion_date, label="Completion date")
    freelancer = await _user_with_role(
        check, "freelancerId", freelancer_id, Role.FREELANCER, "freelancer"
    )
    client: User | None = viewer
    if viewer.role == Role.ADMIN:
        if not client_id:
            check.fail("BLANK", "clientId", "Choose the client of the project.")
            client = None
        else:
            client = await _user_with_role(check, "clientId", client_id, Role.CLIENT, "client")
    elif client_id and pk_of(client_id, "User") != viewer.id:
        check.fail("INVALID", "clientId", "Only admins create projects for another client.")
    check.done()
    assert client is not None and freelancer is not None
    return await Project.create(
        title=title,
        description=description,
        client=client,
        freelancer=freelancer,
        completion_date=completion_date,
        initial_payment_required=initial_payment_required,
    )


async def record_initial_payment(project_id: int) -> Project:
    """Idempotent: a second call changes nothing."""
    async with atomic() as work:
        project = await work.lock_project(project_id)
        if project.initial_payment_completed_at is None:
            project.initial_payment_completed_at = dt.datetime.now(dt.UTC)
            await project.save(update_fields=["initial_payment_completed_at"])
    return project


async def unlock_milestones(project_id: int, admin: User) -> Project:
    """Idempotent: unlocking an unlocked project posts nothing and sends nothing."""
    async with atomic() as work:
        project = await work.lock_project(project_id)
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
