"""Permission classes declared on fields: who may call a field at all, before it resolves.

Rights on one object (a project, a milestone) need the object: resolvers ask for them with
`schema.authorize.authorized_find`, which loads it once and returns it. The rules
themselves live in `services.access`.
"""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

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


class CanSeeUndeliveredEmails(BasePermission):
    """Anonymous callers are UNAUTHENTICATED, everyone else without the right FORBIDDEN."""

    message = "Only admins can do this."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        viewer = info.context.viewer
        if viewer is None:
            raise Unauthenticated()
        return access.can_see_undelivered_emails(viewer)
