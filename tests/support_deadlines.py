"""Deadline helpers: the clock the server reads, projects in a time zone, milestone reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

from infra import clock
from tests.support import Account, Api, Team, make_team

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
