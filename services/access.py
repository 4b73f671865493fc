"""Who may see and do what. Every object-level check goes through here.

Outsiders are told NOT_FOUND, exactly as if the object did not exist; members who lack a
right are told FORBIDDEN (the contract's order: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN).
"""

from __future__ import annotations

from typing import TypeVar

from tortoise.expressions import Q

from models import ChatMessage, Milestone, Project, Role, User
from schema.ids import pk_of
from services.errors import NotFound

ItemT = TypeVar("ItemT", Milestone, ChatMessage)


def can_see_project(viewer: User, project: Project) -> bool:
    return viewer.role == Role.ADMIN or project.is_member(viewer.id)


def can_edit_milestones(viewer: User, project: Project) -> bool:
    return viewer.id == project.freelancer_id  # type: ignore[attr-defined]


def can_administer(viewer: User) -> bool:
    return viewer.role == Role.ADMIN


def can_post_to_chat(viewer: User, project: Project) -> bool:
    return can_see_project(viewer, project)


def can_create_projects(viewer: User) -> bool:
    return viewer.role in (Role.CLIENT, Role.ADMIN)


async def shares_project(viewer: User, user_id: int) -> bool:
    """Whether `viewer` and `user_id` are client and freelancer of one project."""
    return await Project.filter(
        Q(client_id=viewer.id, freelancer_id=user_id)
        | Q(client_id=user_id, freelancer_id=viewer.id)
    ).exists()


async def visible_project(viewer: User, project_id: str) -> Project:
    """The project behind a global ID, if the viewer may know it exists."""
    pk = pk_of(project_id, "Project")
    project = await Project.get_or_none(id=pk) if pk else None
    if project is None or not can_see_project(viewer, project):
        raise NotFound("Project not found.")
    return project


async def _visible_item(model: type[ItemT], type_name: str, viewer: User, global_id: str) -> ItemT:
    """A row of a project behind a global ID (its project loaded), if the viewer may see it."""
    pk = pk_of(global_id, type_name)
    item = await model.get_or_none(id=pk).select_related("project") if pk else None
    if item is None or not can_see_project(viewer, item.project):  # type: ignore[attr-defined]
        raise NotFound(f"{type_name} not found.")
    return item


async def visible_milestone(viewer: User, milestone_id: str) -> Milestone:
    return await _visible_item(Milestone, "Milestone", viewer, milestone_id)


async def visible_chat_message(viewer: User, message_id: str) -> ChatMessage:
    return await _visible_item(ChatMessage, "ChatMessage", viewer, message_id)


async def visible_user(viewer: User, user_id: str) -> User:
    pk = pk_of(user_id, "User")
    user = await User.get_or_none(id=pk) if pk else None
    if user is None:
        raise NotFound("User not found.")
    if viewer.id == user.id or viewer.role == Role.ADMIN or await shares_project(viewer, user.id):
        return user
    raise NotFound("User not found.")
