"""Per-request DataLoaders, named <Model>By<Key>: each batch is one query, results in key order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from models import Milestone, Project, User


async def _users_by_id(ids: Sequence[int]) -> list[User | None]:
    rows = {u.id: u for u in await User.filter(id__in=set(ids))}
    return [rows.get(i) for i in ids]


async def _projects_by_id(ids: Sequence[int]) -> list[Project | None]:
    rows = {p.id: p for p in await Project.filter(id__in=set(ids))}
    return [rows.get(i) for i in ids]


async def _milestones_by_id(ids: Sequence[int]) -> list[Milestone | None]:
    rows = {m.id: m for m in await Milestone.filter(id__in=set(ids))}
    return [rows.get(i) for i in ids]


async def _milestones_by_project(project_ids: Sequence[int]) -> list[list[Milestone]]:
    grouped: dict[int, list[Milestone]] = defaultdict(list)
    rows = await Milestone.filter(project_id__in=set(project_ids)).order_by("due_date", "id")
    for milestone in rows:
        grouped[milestone.project_id].append(milestone)
    return [grouped.get(pid, []) for pid in project_ids]


@dataclass(slots=True)
class Loaders:
    """One set per request, so nothing cached outlives the request that read it."""

    user_by_id: DataLoader[int, User | None] = field(
        default_factory=lambda: DataLoader(load_fn=_users_by_id)
    )
    project_by_id: DataLoader[int, Project | None] = field(
        default_factory=lambda: DataLoader(load_fn=_projects_by_id)
    )
    milestone_by_id: DataLoader[int, Milestone | None] = field(
        default_factory=lambda: DataLoader(load_fn=_milestones_by_id)
    )
    milestones_by_project: DataLoader[int, list[Milestone]] = field(
        default_factory=lambda: DataLoader(load_fn=_milestones_by_project)
    )
