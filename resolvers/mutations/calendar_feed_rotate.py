"""rotateCalendarFeed: a new secret feed URL for the viewer; the previous one stops working."""

from __future__ import annotations

from schema.context import Info
from schema.types.calendar import CalendarFeedPayload, CalendarFeedType
from services import calendar_feeds


async def rotate_calendar_feed(info: Info) -> CalendarFeedPayload | None:
    token = await calendar_feeds.rotate(info.context.require_viewer())
    return CalendarFeedPayload(errors=[], feed=CalendarFeedType.build(info, token))
