"""The soak run's projects: seeded through the API, their milestones changed within bounds,
their chat read back (bench/soak.py)."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.seeding import make_team, more_log_ins
from bench.soak_api import Api, ApiError, Stats
from bench.soak_plan import (
    ADD_MILESTONE,
    CHAT_PAGE,
    DELETE_MILESTONE,
    EDIT_MILESTONE,
    EXTRA_LOG_INS,
    MILESTONES_MAX,
    MILESTONES_MIN,
    READ_PROJECT,
    SEND_CHAT,
    SET_COMPLETED,
    WORDS,
)
from bench.soak_subscribers import Subscriber
from tests.support import future


@dataclass
class Project:
    index: int
    id: str
    client: str  # tokens
    freelancer: str
    readers: list[str]  # the tokens that read it and subscribe to it, in turn
    milestones: dict[str, bool] = field(default_factory=dict)  # id -> completed
    subscribers: list[Subscriber] = field(default_factory=list)
    start_id: str = ""  # the first event every subscriber must have
    milestone_changes: int = 0  # successful ones, each a chat event and an e-mail
    titles: int = 0


@dataclass
class Run:
    api: Api
    stats: Stats
    rng: random.Random
    projects: list[Project]
    admin: str
    everyone: list[str]  # every user's token, for projects(first: 20)
    sent_at: dict[str, float] = field(default_factory=dict)  # chat message id -> send time


async def seed(api: Api, admin: str, count: int, rng: random.Random) -> list[Project]:
    run = uuid.uuid4().hex[:8]
    return [await seed_project(api, admin, run, index, rng) for index in range(count)]


async def seed_project(api: Api, admin: str, run: str, index: int, rng: random.Random) -> Project:
    """A team, its extra log-ins, 10 milestones and 10 chat messages."""
    details = {
        "title": f"Soak project {index}",
        "description": "A steady stream of milestones and chat.",
        "completionDate": future(365),
    }
    team = await make_team(api.seeder(), admin, f"soak-{run}-{index}", details, f" {index}")
    readers = [team.client, team.freelancer]
    readers += await more_log_ins(api.seeder(), team, EXTRA_LOG_INS)
    readers.append(admin)
    project = Project(index, team.project_id, team.client, team.freelancer, readers)
    for _ in range(10):
        await add_milestone(api, project, rng, kind="seed")
        project.milestone_changes += 1
    for n in range(10):
        author = (team.client, team.freelancer)[n % 2]
        body = {"projectId": project.id, "body": chat_body(rng, f"Seed message {n}")}
        await api.must("seed", SEND_CHAT, {"input": body}, author, "sendChatMessage")
    return project


def chat_body(rng: random.Random, opening: str) -> str:
    return f"{opening}: " + " ".join(rng.choices(WORDS, k=rng.randint(3, 40)))


async def add_milestone(
    api: Api, project: Project, rng: random.Random, kind: str = "addMilestone"
) -> bool:
    project.titles += 1
    variables = {
        "input": {
            "projectId": project.id,
            "title": f"Milestone {project.titles}",
            "description": " ".join(rng.choices(WORDS, k=rng.randint(0, 30))),
            "dueDate": future(rng.randint(10, 300)),
        }
    }
    call = api.must if kind == "seed" else api.call
    added = await call(kind, ADD_MILESTONE, variables, project.freelancer, "addMilestone")
    if added is None:
        return False
    project.milestones[added["milestone"]["id"]] = added["milestone"]["completed"]
    return True


async def change_milestone(run: Run, project: Project) -> None:
    """One milestone change, chosen so that the project keeps 8 to 40 milestones."""
    roll, count = run.rng.random(), len(project.milestones)
    chosen = run.rng.choice(sorted(project.milestones)) if project.milestones else ""
    if count < MILESTONES_MIN or (count < MILESTONES_MAX and roll < 0.25):
        ok = await add_milestone(run.api, project, run.rng)
    else:
        ok = await change_one(run, project, chosen, roll)
    if ok:
        project.milestone_changes += 1
    else:
        await resync(run.api, project)


async def change_one(run: Run, project: Project, chosen: str, roll: float) -> bool:
    """Delete, edit, tick or untick the milestone `chosen`, as `roll` says."""
    fields: dict[str, Any] = {}
    if len(project.milestones) >= MILESTONES_MAX or roll < 0.45:
        kind, query, payload = "deleteMilestone", DELETE_MILESTONE, "deleteMilestone"
    elif roll < 0.7:
        kind, query, payload = "editMilestone", EDIT_MILESTONE, "editMilestone"
        project.titles += 1
        fields["title"] = f"Milestone {project.titles} (revised)"
        if run.rng.random() < 0.5:
            fields["dueDate"] = future(run.rng.randint(10, 300))
    else:
        fields["completed"] = not project.milestones[chosen]
        kind = f"setMilestoneCompleted ({'tick' if fields['completed'] else 'untick'})"
        query, payload = SET_COMPLETED, "setMilestoneCompleted"
    variables = {"input": {"id": chosen, **fields}}
    ok = await run.api.call(kind, query, variables, project.freelancer, payload) is not None
    if ok and query is DELETE_MILESTONE:
        del project.milestones[chosen]
    elif ok and query is SET_COMPLETED:
        project.milestones[chosen] = fields["completed"]
    return ok


async def resync(api: Api, project: Project) -> None:
    """After a failed change, learn the milestones as they are, to go on from there."""
    data = await api.call(
        "project (after a failed change)", READ_PROJECT, {"id": project.id}, project.client
    )
    if data and data.get("project"):
        project.milestones = {m["id"]: m["completed"] for m in data["project"]["milestones"]}


async def chat_ids(api: Api, project: Project) -> list[str]:
    """Every ChatMessage id of the project, oldest first, through the API."""
    ids: list[str] = []
    after = None
    while True:
        data = await api.must(
            "chat read-back", CHAT_PAGE, {"id": project.id, "after": after}, project.client
        )
        chat = data["project"]["chat"]
        ids += [edge["node"]["id"] for edge in chat["edges"]]
        if not chat["pageInfo"]["hasNextPage"]:
            return ids
        after = chat["pageInfo"]["endCursor"]


async def until(check: Callable[[], bool], within: float) -> bool:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def received_by_all(project: Project, message_id: str) -> Callable[[], bool]:
    return lambda: all(message_id in s.received for s in project.subscribers)


async def go_live(api: Api, project: Project) -> None:
    """Send chat messages until one reached every subscriber: the events from it on count."""
    for attempt in range(1, 7):
        sent = await api.must(
            "seed",
            SEND_CHAT,
            {"input": {"projectId": project.id, "body": f"Soak starts (attempt {attempt})"}},
            project.client,
            "sendChatMessage",
        )
        message_id = sent["message"]["id"]
        if await until(received_by_all(project, message_id), 10):
            project.start_id = message_id
            return
    missing = sum(message_id not in s.received for s in project.subscribers)
    raise ApiError(f"project {project.index}: {missing} subscribers never went live")
