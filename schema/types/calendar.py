"""The calendar feed: its URL, read on the viewer's own User, and the rotation's payload."""

from __future__ import annotations

import strawberry

from infra import links
from schema.context import Info
from schema.types.common import UserError
from services import calendar_feeds


@strawberry.type(
    name="CalendarFeed",
    description=(
        "An iCalendar (RFC 5545) feed of the due dates of every milestone of the viewer's projects."
    ),
)
class CalendarFeedType:
    url: str = strawberry.field(
        description=(
            "GET it without any other credential; text/calendar. One project's feed: the "
            "same URL with `/<project ID>.ics` in place of its `.ics`."
        )
    )

    @classmethod
    def build(cls, info: Info, token: str) -> CalendarFeedType:
        return cls(url=links.link(f"/calendar/{token}.ics"))


@strawberry.type(description="The result of rotating the calendar feed URL.")
class CalendarFeedPayload:
    errors: list[UserError] = strawberry.field(
        description="Problems with the input; empty on success."
    )
    feed: CalendarFeedType | None = strawberry.field(
        default=None, description="The new feed; the previous URL answers 404 from now on."
    )


async def own_feed(info: Info, user_id: int) -> CalendarFeedType | None:
    """`User.calendarFeed`: the viewer's own feed, made on first read; null for anyone else."""
    viewer = info.context.viewer
    if viewer is None or viewer.id != user_id:
        return None
    return CalendarFeedType.build(info, await calendar_feeds.token_of(viewer))
