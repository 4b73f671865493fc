"""Who may see and do what: every access rule of the API, each a small named function.

The GraphQL edge (`schema/authorize.py`, `schema/permissions.py`) and the types ask these;
nothing else decides access. Outsiders are told NOT_FOUND, exactly as if the object did not
exist; members who lack a right are told FORBIDDEN (the contract's order: UNAUTHENTICATED,
NOT_FOUND, FORBIDDEN). `tests/test_access_rules.py` holds the whole policy as one table.
"""

from __future__ import annotations

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from models import Project, Role, User


def is_admin(viewer: User) -> bool:
    """Admins run the platform: they see every project and user and may do admin work."""
    return viewer.role == Role.ADMIN


def can_see_project(viewer: User, project: Project) -> bool:
    """A project, and everything in it, is seen by its client, its freelancer and admins."""
    return is_admin(viewer) or project.is_member(viewer.id)


def projects_seen_by(viewer: User) -> QuerySet[Project]:
    """The projects `viewer` lists: their own as client or freelancer; every one for an admin."""
    if is_admin(viewer):
        return Project.all()
    if viewer.role == Role.CLIENT:
        return Project.filter(client_id=viewer.id)
    return Project.filter(freelancer_id=viewer.id)


def in_calendar_feed(viewer: User, project: Project) -> bool:
    """A user's calendar feed lists the projects they belong to, as client or freelancer.

    Admins belong to none: a calendar of every project on the platform is noise nobody
    subscribes to; they subscribe to one project's feed instead (`can_see_project`).
    """
    return project.is_member(viewer.id)


def calendar_feed_projects(viewer: User) -> QuerySet[Project]:
    """The projects `in_calendar_feed` allows for `viewer`, as a query."""
    return Project.filter(Q(client_id=viewer.id) | Q(freelancer_id=viewer.id))


def can_create_projects(viewer: User) -> bool:
    """Clients start projects (for themselves); admins start them for any client."""
    return viewer.role in (Role.CLIENT, Role.ADMIN)


def can_administer_project(viewer: User, project: Project) -> bool:
    """Recording the initial payment and unlocking the milestones are admin work."""
    return is_admin(viewer)


def can_set_time_zone(viewer: User, project: Project) -> bool:
    """The zone in which the due dates end is the client's to choose (or an admin's)."""
    return is_admin(viewer) or viewer.id == project.client_id


def can_change_milestones(viewer: User, project: Project) -> bool:
    """Only the project's freelancer adds, edits, ticks, unticks and deletes its milestones."""
    return viewer.id == project.freelancer_id


def can_review_milestones(viewer: User, project: Project) -> bool:
    """Only the project's client accepts a completed milestone or sends it back: it is their
    word on the work they pay for (not an admin's, nor the freelancer's own)."""
    return viewer.id == project.client_id


def can_edit_milestones_now(viewer: User, project: Project) -> bool:
    """What the page offers: the freelancer's right, once an admin has unlocked them."""
    return project.milestones_unlocked and can_change_milestones(viewer, project)


def can_post_to_chat(viewer: User, project: Project) -> bool:
    """Whoever sees a project may write in its chat: its client, its freelancer, admins."""
    return can_see_project(viewer, project)


def can_see_email(viewer: User, user: User, project: Project | None) -> bool:
    """An address is seen by its owner, by admins, and by the other party of a shared project.

    `project`: a project through which `user` is shown to `viewer`, if any.
    """
    return (
        viewer.id == user.id
        or is_admin(viewer)
        or (project is not None and project.is_member(user.id) and project.is_member(viewer.id))
    )


async def project_shared_with(viewer: User, user: User) -> Project | None:
    """A project on which `viewer` and `user` are client and freelancer, if there is one."""
    return await Project.filter(
        Q(client_id=viewer.id, freelancer_id=user.id)
        | Q(client_id=user.id, freelancer_id=viewer.id)
    ).first()


def can_see_user(viewer: User, user: User, shared: Project | None) -> bool:
    """A user is seen by themself, by admins, and by whoever shares a project with them.

    `shared`: a project of the two (`project_shared_with`), if any.
    """
    return viewer.id == user.id or is_admin(viewer) or shared is not None


def can_see_undelivered_emails(viewer: User) -> bool:
    """The delivery problems of the outbox are for admins, who can act on them."""
    return is_admin(viewer)
