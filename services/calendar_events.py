"""A feed as an iCalendar document: one all-day VEVENT per milestone.

What calendar apps get, and why:

- DTSTART;VALUE=DATE is the due date and DTEND;VALUE=DATE the day after (an all-day event's
  end is exclusive), TRANSP:TRANSPARENT: a deadline marks a day without blocking it.
- UID `milestone-<id>@<host>` never changes, so an edit updates the event in place;
  SEQUENCE is the milestone's edit counter (every edit, tick and untick adds one), and
  DTSTAMP and LAST-MODIFIED its last change. No METHOD: a published feed, whose DTSTAMP
  says when the event last changed (RFC 5545 section 3.8.7.2), so an unchanged feed is
  byte for byte the same and its ETag holds.
- A completed milestone keeps its event (the date it was due is still a fact) with "✓ "
  before its SUMMARY and "Completed." heading its DESCRIPTION; an accepted one, which is
  done for good, the same mark and "Accepted.". VEVENT has no completed
  status (STATUS:COMPLETED is for VTODO, and CANCELLED would say the opposite); every app
  shows a summary as it is. A deleted milestone is simply no longer listed, which
  subscribed calendars read as its removal.
"""

from __future__ import annotations

import datetime as dt

from infra import ical
from services.calendar_feeds import Entry, Feed

PRODID = "-//Milestones API//Calendar feed//EN"
# How often a calendar app should fetch the feed again (RFC 7986, and its older X- form).
REFRESH = "PT1H"
COMPLETED_MARK = "✓ "


def summary(entry: Entry) -> str:
    """The event's title: the milestone, then its project; marked once completed."""
    mark = COMPLETED_MARK if entry.completed else ""
    return f"{mark}{entry.title} — {entry.project_title}"


def description(entry: Entry) -> str:
    if not entry.completed:
        return entry.description
    heading = "Accepted." if entry.accepted else "Completed."
    return heading + (f"\n\n{entry.description}" if entry.description else "")


def event(entry: Entry, host: str) -> list[str]:
    return ical.component(
        "VEVENT",
        [
            ical.text("UID", f"milestone-{entry.id}@{host}"),
            ical.utc("DTSTAMP", entry.updated_at),
            ical.utc("CREATED", entry.created_at),
            ical.utc("LAST-MODIFIED", entry.updated_at),
            f"SEQUENCE:{entry.sequence:d}",
            ical.date("DTSTART", entry.due_date),
            ical.date("DTEND", entry.due_date + dt.timedelta(days=1)),
            ical.text("SUMMARY", summary(entry)),
            ical.text("DESCRIPTION", description(entry)),
            "TRANSP:TRANSPARENT",
        ],
    )


def calendar_name(feed: Feed) -> str:
    if feed.project_title is not None:
        return f"{feed.project_title} — milestones"
    return "Milestones"


def render(feed: Feed, *, host: str) -> bytes:
    """The whole feed as an RFC 5545 document, UTF-8; `host` makes the UIDs global."""
    name = calendar_name(feed)
    lines = [
        "VERSION:2.0",
        ical.text("PRODID", PRODID),
        "CALSCALE:GREGORIAN",
        ical.text("NAME", name),
        ical.text("X-WR-CALNAME", name),
        ical.text("X-WR-CALDESC", "Due dates of project milestones."),
        f"REFRESH-INTERVAL;VALUE=DURATION:{REFRESH}",
        f"X-PUBLISHED-TTL:{REFRESH}",
    ]
    for entry in feed.entries:
        lines.extend(event(entry, host))
    return ical.document(ical.component("VCALENDAR", lines))
