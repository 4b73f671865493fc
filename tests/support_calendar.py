"""Helpers for the calendar feed tests: the viewer's feed URL, the feed fetched and parsed."""

from __future__ import annotations

from typing import Any

import httpx
from icalendar import Calendar, Event

from tests.support import Account, Api

FEED = "{ me { calendarFeed { url } } }"
ROTATE = """mutation { rotateCalendarFeed { errors { code } feed { url } } }"""
EDIT = """mutation($input: EditMilestoneInput!) { editMilestone(input: $input) {
  errors { code field message } } }"""
TICK = """mutation($input: SetMilestoneCompletedInput!) { setMilestoneCompleted(input: $input) {
  errors { code } } }"""
DELETE = """mutation($input: DeleteMilestoneInput!) { deleteMilestone(input: $input) {
  errors { code } } }"""


def _resolved(api: Api, url: object) -> str:
    assert isinstance(url, str)
    # Without PUBLIC_URL the URL is relative: a client resolves it against the server.
    return str(api.client.base_url.join(url))


async def feed_url(api: Api, account: Account) -> str:
    data = await api.data(FEED, token=account.token)
    return _resolved(api, data["me"]["calendarFeed"]["url"])


async def rotate(api: Api, account: Account) -> str:
    data = await api.data(ROTATE, token=account.token)
    payload = data["rotateCalendarFeed"]
    assert payload["errors"] == [], payload
    return _resolved(api, payload["feed"]["url"])


def project_feed(url: str, project_id: str) -> str:
    """The one-project variant of a feed URL."""
    return url.removesuffix(".ics") + f"/{project_id}.ics"


async def fetch(url: str, **headers: str) -> httpx.Response:
    """GET a feed URL as a calendar app does: no credential but the URL."""
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.get(url, headers=headers)


async def events(url: str) -> dict[str, Event]:
    """The feed's events by SUMMARY, after checking the response is a calendar."""
    response = await fetch(url)
    assert response.status_code == 200, response.text
    calendar = Calendar.from_ical(response.content)
    return {str(event["SUMMARY"]): event for event in calendar.walk("VEVENT")}


async def edit(api: Api, account: Account, milestone_id: str, **fields: Any) -> None:
    data = await api.data(EDIT, {"input": {"id": milestone_id, **fields}}, account.token)
    assert data["editMilestone"]["errors"] == [], data


async def tick(api: Api, account: Account, milestone_id: str, completed: bool = True) -> None:
    data = await api.data(
        TICK, {"input": {"id": milestone_id, "completed": completed}}, account.token
    )
    assert data["setMilestoneCompleted"]["errors"] == [], data
