"""Per-request DataLoaders, named <Model>By<Key>: each batch is one query, results in key order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from strawberry.dataloader import DataLoader

from models import ChangeRequest, Milestone, Project, User
from models.rows import MilestoneRow
from schema.pagination import MAX_PAGE
from services import chat, milestones


async def _users_by_id(ids: Sequence[int]) -> list[User | None]:
    rows = {u.id: u for u in await User.filter(id__in=set(ids))}
    return [rows.get(i) for i in ids]


async def _projects_by_id(ids: Sequence[int]) -> list[Project | None]:
    rows = {p.id: p for p in await Project.filter(id__in=set(ids))}
    return [rows.get(i) for i in ids]


async def _milestones_by_id(ids: Sequence[int]) -> list[Milestone | None]:
    rows = {m.id: m for m in await Milestone.filter(id__in=set(ids))}
    return [rows.get(i) for i in ids]


async def _milestones_by_project(project_ids: Sequence[int]) -> list[list[MilestoneRow]]:
    found = await milestones.listed(project_ids)
    return [found[pid] for pid in project_ids]


async def _change_requests_by_milestone(ids: Sequence[int]) -> list[list[ChangeRequest]]:
    found: dict[int, list[ChangeRequest]] = {i: [] for i in ids}
    # In the index's order (milestone, created_at, id), so the database sorts nothing;
    # each milestone's list is then turned newest first.
    for request in await ChangeRequest.filter(milestone_id__in=set(ids)).order_by(
        "milestone_id", "created_at", "id"
    ):
        found[request.milestone_id].append(request)
    return [found[i][::-1] for i in ids]


class ChatPageKey(NamedTuple):
    """One project's chat page: the project and the page arguments, checked and decoded."""

    project_id: int
    first: int | None
    after: int | None
    last: int | None
    before: int | None


async def _chat_pages(keys: Sequence[ChatPageKey]) -> list[chat.ChatPage]:
    # Projects asking for the same page share one query: one per distinct page arguments.
    by_page: dict[tuple[int | None, ...], list[int]] = defaultdict(list)
    for key in keys:
        by_page[key[1:]].append(key.project_id)
    found: dict[ChatPageKey, chat.ChatPage] = {}
    for (first, after, last, before), project_ids in by_page.items():
        pages = await chat.pages(project_ids, first=first, after=after, last=last, before=before)
        for project_id, page in pages.items():
            found[ChatPageKey(project_id, first, after, last, before)] = page
    return [found[key] for key in keys]


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
    milestones_by_project: DataLoader[int, list[MilestoneRow]] = field(
        default_factory=lambda: DataLoader(load_fn=_milestones_by_project)
    )
    change_requests_by_milestone: DataLoader[int, list[ChangeRequest]] = field(
        default_factory=lambda: DataLoader(load_fn=_change_requests_by_milestone)
    )
    # Batches of at most a page of projects keep each statement a bounded size.
    chat_page_by_project: DataLoader[ChatPageKey, chat.ChatPage] = field(
        default_factory=lambda: DataLoader(load_fn=_chat_pages, max_batch_size=MAX_PAGE)
    )
