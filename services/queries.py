"""Read-side queries that carry access rules: which projects a viewer sees."""

from __future__ import annotations

from tortoise.queryset import QuerySet

from models import Project, Role, User


def projects_of(viewer: User) -> QuerySet[Project]:
    """The viewer's projects; every project for an admin."""
    if viewer.role == Role.ADMIN:
        return Project.all()
    if viewer.role == Role.CLIENT:
        return Project.filter(client_id=viewer.id)
    return Project.filter(freelancer_id=viewer.id)


async def projects_page(
    viewer: User, first: int, after: int | None
) -> tuple[list[Project], bool, bool, int]:
    """Newest first: (page, has next, has previous, total count)."""
    query = projects_of(viewer)
    total = await query.count()
    page_query = query.filter(id__lt=after) if after is not None else query
    rows = await page_query.order_by("-id").limit(first + 1)
    has_previous = after is not None and await query.filter(id__gte=after).exists()
    return rows[:first], len(rows) > first, has_previous, total
