"""Authorize once, at the edge: decode a global ID, load the object, check, return it.

In the spirit of GitLab's `authorized_find!`: a resolver names the object and the right it
needs, and gets the loaded object back (its project loaded with it) or the contract's error:
NOT_FOUND when the viewer may not know it exists, FORBIDDEN when they lack the right.
Services then take that object; they never see a global ID.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from models import ChatMessage, Milestone, Project, User
from models.rows import first_where
from schema.context import Info
from schema.ids import pk_of
from services import access
from services.errors import Forbidden, NotFound

ProjectRule = Callable[[User, Project], bool]
Findable = TypeVar("Findable", Project, Milestone, ChatMessage)

# What a member of the project who lacks the right is told.
REFUSALS: dict[ProjectRule, str] = {
    access.can_administer_project: "Only admins can do this.",
    access.can_set_time_zone: "Only the project's client or an admin can change its time zone.",
    access.can_change_milestones: "Only the project's freelancer can change its milestones.",
    access.can_review_milestones: (
        "Only the project's client can accept a milestone or ask for changes."
    ),
    access.can_post_to_chat: "Only the project's members can post to its chat.",
}


async def _load(model: type[Findable], pk: int) -> Findable | None:
    if model is Project:
        return await first_where(model, "id", pk)
    return await model.get_or_none(id=pk).select_related("project")


async def authorized_find(
    info: Info, model: type[Findable], global_id: str, rule: ProjectRule | None = None
) -> Findable:
    """The `model` row behind `global_id` if the viewer may see it (and, given `rule`, act on
    it); items of a project come with their `project` loaded."""
    viewer = info.context.require_viewer()
    # Model names are the GraphQL type names the IDs carry.
    name = model.__name__
    pk = pk_of(global_id, name)
    found = await _load(model, pk) if pk else None
    if found is None:
        raise NotFound(f"{name} not found.")
    project = found if isinstance(found, Project) else found.project
    if not access.can_see_project(viewer, project):
        raise NotFound(f"{name} not found.")
    if rule is not None and not rule(viewer, project):
        raise Forbidden(REFUSALS[rule])
    return found


async def authorized_user(info: Info, global_id: str) -> tuple[User, Project | None]:
    """The user behind `global_id` if the viewer may see them, with a project the two share
    (None for the viewer themself and for admins), through which the user is shown."""
    viewer = info.context.require_viewer()
    pk = pk_of(global_id, "User")
    user = await User.get_or_none(id=pk) if pk else None
    if user is None:
        raise NotFound("User not found.")
    shared = None
    if viewer.id != user.id and not access.is_admin(viewer):
        shared = await access.project_shared_with(viewer, user)
    if not access.can_see_user(viewer, user, shared):
        raise NotFound("User not found.")
    return user, shared
