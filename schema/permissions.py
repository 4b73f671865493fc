"""Permission classes declared on fields: each says who may call it, never how to do it.

Object permissions load the project the input points at. An outsider gets NOT_FOUND
(raised, exactly as for a missing project); a member without the right gets FORBIDDEN.
"""

from __future__ import annotations

from typing import Any, ClassVar

from strawberry.permission import BasePermission

from models import Project, User
from schema.context import Info
from services import access
from services.errors import Unauthenticated


class IsAuthenticated(BasePermission):
    message = "Sign in to do this."
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.viewer is not None


class CanCreateProjects(BasePermission):
    message = "Only clients and admins create projects."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        viewer = info.context.viewer
        return viewer is not None and access.can_create_projects(viewer)


class _ProjectPermission(BasePermission):
    """Base: find the project of `input.projectId` (or of the milestone `input.id`)."""

    message = "You are not allowed to do this."
    error_extensions = {"code": "FORBIDDEN"}
    via_milestone: ClassVar[bool] = False

    def allowed(self, viewer: User, project: Project) -> bool:
        raise NotImplementedError

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        viewer = info.context.viewer
        if viewer is None:
            raise Unauthenticated()
        ref = kwargs["input"]
        if self.via_milestone:
            project = (await access.visible_milestone(viewer, ref.id)).project
        else:
            project = await access.visible_project(viewer, ref.project_id)
        return bool(self.allowed(viewer, project))


class CanAdministerProject(_ProjectPermission):
    message = "Only admins can do this."

    def allowed(self, viewer: User, project: Project) -> bool:
        return access.can_administer(viewer)


class CanAddMilestones(_ProjectPermission):
    message = "Only the project's freelancer can change its milestones."

    def allowed(self, viewer: User, project: Project) -> bool:
        return access.can_edit_milestones(viewer, project)


class CanChangeMilestone(CanAddMilestones):
    via_milestone = True


class CanPostToChat(_ProjectPermission):
    message = "Only the project's members can post to its chat."

    def allowed(self, viewer: User, project: Project) -> bool:
        return access.can_post_to_chat(viewer, project)


class IsAdmin(BasePermission):
    """Admin-only fields: anonymous callers are UNAUTHENTICATED, everyone else FORBIDDEN."""

    message = "Only admins can do this."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        viewer = info.context.viewer
        if viewer is None:
            raise Unauthenticated()
        return access.can_administer(viewer)
