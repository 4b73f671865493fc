"""Deadline helpers: the clock the server reads, projects in a time zone, milestone reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from zoneinfo import ZoneInfo

from infra import clock
from models import Milestone, MilestoneReminder
from tests.support import Account, Api, RunningServer, Team, make_team
from tests.support_mail import drain_backlog

ZONE_PROJECT = """mutation($input: SetProjectTimeZoneInput!) {
  setProjectTimeZone(input: $input) { errors { code field message } project { id timeZone } } }"""
MILESTONE = """query($id: ID!) { node(id: $id) { ... on Milestone {
  id dueDate dueAt overdue completed project { timeZone } } } }"""
PROJECT_MILESTONES = """query($id: ID!) { project(id: $id) { timeZone
  milestones { id title dueDate dueAt overdue } } }"""


@contextmanager
def clock_at(instant: dt.datetime) -> Iterator[None]:
    """Stand this process's clock (the in-process server's) at `instant` for the block."""
    move_clock(instant)
    try:
        yield
    finally:
        clock.set_offset(0)


def move_clock(instant: dt.datetime) -> None:
    now = dt.datetime.now(dt.UTC)
    clock.set_offset((instant - now).total_seconds())


def local(day: dt.date, hour: int, zone: str) -> dt.datetime:
    """`hour`:00 on `day` in `zone`, as a UTC instant."""
    return dt.datetime.combine(day, dt.time(hour), tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


def today_in(zone: str) -> dt.date:
    return clock.now().astimezone(ZoneInfo(zone)).date()


async def set_zone(api: Api, caller: Account, project_id: str, zone: str) -> dict[str, Any]:
    data = await api.data(
        ZONE_PROJECT, {"input": {"projectId": project_id, "timeZone": zone}}, caller.token
    )
    return data["setProjectTimeZone"]


async def zoned_team(api: Api, zone: str) -> Team:
    team = await make_team(api)
    assert (await set_zone(api, team.client, team.project_id, zone))["errors"] == []
    return team


async def milestone(api: Api, caller: Account, milestone_id: str) -> dict[str, Any]:
    return (await api.data(MILESTONE, {"id": milestone_id}, caller.token))["node"]


def instant(text: str) -> dt.datetime:
    """A DateTime the API returned."""
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


@asynccontextmanager
async def far_back(server: RunningServer, days: int) -> AsyncIterator[dt.datetime]:
    """The server's clock `days` back, where a test's steps meet no other test's reminders;
    what is left waiting there (reminders, milestones waiting for acceptance, due that far
    back as no other test's are) is removed after, as it would fall due at once for later
    tests' workers."""
    await drain_backlog(server)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    move_clock(start)
    try:
        yield start
    finally:
        clock.set_offset(0)
        await MilestoneReminder.filter(due_at__lt=start + dt.timedelta(days=100)).delete()
        await Milestone.filter(due_date__lt=(start + dt.timedelta(days=100)).date()).delete()
