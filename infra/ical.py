"""iCalendar (RFC 5545) text: content lines, value escaping and line folding.

A calendar is a list of content lines (`NAME;PARAM=VALUE:value`), written here unfolded
and folded only when the document is assembled. What the lines say is the caller's: this
module knows the format, not milestones.

- TEXT values (section 3.3.11) escape backslash, semicolon and comma with a backslash and
  write every line break as `\\n`; other control characters are not allowed in a value
  (section 3.1) and are dropped.
- A content line longer than 75 octets is folded (section 3.1): a CRLF and one space go in
  before the octet that would make it longer, never inside a UTF-8 sequence, so a client
  that unfolds by octets gets the characters back whole, and never between a backslash and
  the character it escapes: the RFC allows that fold, but Google Calendar then drops the
  event (the `icalendar` package keeps escapes whole for the same reason).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

CRLF = "\r\n"
# The longest a physical line may be, in octets, not counting its CRLF.
LINE_OCTETS = 75
_ESCAPES = {"\\": "\\\\", ";": "\\;", ",": "\\,", "\n": "\\n"}


def escape_text(value: str) -> str:
    """`value` as a TEXT property value."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch == "\t" or not (ord(ch) < 0x20 or ord(ch) == 0x7F):
            out.append(ch)
        # Any other ASCII control character is not allowed in a value: dropped.
    return "".join(out)


def text(name: str, value: str) -> str:
    """A property whose value is TEXT, escaped."""
    return f"{name}:{escape_text(value)}"


def date(name: str, day: dt.date) -> str:
    """A property whose value is a DATE (an all-day DTSTART or DTEND)."""
    return f"{name};VALUE=DATE:{day:%Y%m%d}"


def utc(name: str, moment: dt.datetime) -> str:
    """A property whose value is a DATE-TIME in UTC (the `Z` form), to the second."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime names no instant")
    return f"{name}:{moment.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"


def component(name: str, lines: Iterable[str]) -> list[str]:
    """`lines` between BEGIN and END of component `name` (VCALENDAR, VEVENT, ...)."""
    return [f"BEGIN:{name}", *lines, f"END:{name}"]


def _opens_escape(data: bytes, start: int, end: int) -> bool:
    """Whether `data[end - 1]` is a backslash escaping `data[end]`.

    Only a run of an odd number of backslashes ends in one that escapes the next octet
    (`\\\\` is a whole escape). The run is counted from `start`: no fold splits an escape,
    so a physical line never begins inside one.
    """
    run = end
    while run > start and data[run - 1] == 0x5C:
        run -= 1
    return (end - run) % 2 == 1


def fold(line: str) -> str:
    """One content line as physical lines of at most 75 octets each, joined by CRLF + space."""
    data = line.encode()
    if len(data) <= LINE_OCTETS:
        return line
    parts: list[bytes] = []
    start, room = 0, LINE_OCTETS
    while len(data) - start > room:
        end = start + room
        # Back off to the first octet of a UTF-8 sequence (continuation octets: 10xxxxxx).
        while data[end] & 0xC0 == 0x80:
            end -= 1
        if _opens_escape(data, start, end):
            end -= 1
        parts.append(data[start:end])
        # A continuation line begins with the space that marks it: one octet less for text.
        start, room = end, LINE_OCTETS - 1
    parts.append(data[start:])
    return (CRLF + " ").join(part.decode() for part in parts)


def document(lines: Iterable[str]) -> bytes:
    """The iCalendar object made of `lines` (unfolded content lines), as UTF-8."""
    return "".join(fold(line) + CRLF for line in lines).encode()
