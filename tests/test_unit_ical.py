"""The iCalendar writer's escaping and folding (RFC 5545 sections 3.1 and 3.3.11)."""

from __future__ import annotations

import datetime as dt

import pytest
from icalendar import Calendar

from infra import ical


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("a,b;c\\d", "a\\,b\\;c\\\\d"),
        ("one\ntwo\r\nthree\rfour", "one\\ntwo\\nthree\\nfour"),
        ("tab\tkept, bell\x07 and escape\x1b dropped\x7f", "tab\tkept\\, bell and escape dropped"),
        ("Ümlaut ☃ 日本", "Ümlaut ☃ 日本"),
        (":colon stays", ":colon stays"),
    ],
)
def test_text_values_are_escaped(value: str, written: str) -> None:
    assert ical.escape_text(value) == written


@pytest.mark.parametrize("prefix", range(0, 6))
@pytest.mark.parametrize("char", ["é", "☃", "🚀", "a"])
def test_long_lines_fold_at_75_octets_between_characters(prefix: int, char: str) -> None:
    # Every offset of a multi-octet character against the fold points.
    value = "x" * prefix + char * 120
    line = ical.text("SUMMARY", value)
    folded = ical.fold(line)
    parts = folded.encode().split(b"\r\n")
    assert len(parts) > 1
    assert all(len(part) <= 75 for part in parts)
    assert all(part.startswith(b" ") for part in parts[1:])
    assert parts[0].decode() and all(part.decode() for part in parts)  # whole characters
    assert folded.replace("\r\n ", "") == line
    # Lines are filled: a fold leaves less than one character's room unused.
    assert all(len(part) > 75 - len(char.encode()) for part in parts[:-1])


@pytest.mark.parametrize("prefix", range(0, 4))
@pytest.mark.parametrize("char", ["\\", ";", ",", "\n", "é\\"])
def test_a_fold_never_splits_an_escape(prefix: int, char: str) -> None:
    # Every offset of an escape against the fold points: Google Calendar drops an event
    # whose line ends in the backslash of an escape continued on the next line.
    line = ical.text("DESCRIPTION", "x" * prefix + char * 90)
    folded = ical.fold(line)
    parts = folded.split("\r\n ")
    assert len(parts) > 1 and all(len(part.encode()) <= 75 for part in parts)
    assert folded.replace("\r\n ", "") == line
    for part in parts:
        backslashes = len(part) - len(part.rstrip("\\"))
        assert backslashes % 2 == 0, parts  # a trailing backslash run is whole escapes
    assert str(Calendar.from_ical(_calendar(line)).walk("VEVENT")[0]["DESCRIPTION"]) == (
        "x" * prefix + char * 90
    )


def _calendar(line: str) -> bytes:
    events = ical.component("VEVENT", [ical.text("UID", "x@example.com"), line])
    return ical.document(ical.component("VCALENDAR", ["VERSION:2.0", *events]))


def test_a_line_of_75_octets_is_not_folded() -> None:
    line = "X" * 75
    assert ical.fold(line) == line
    assert ical.fold(line + "Y") == line + "\r\n Y"


def test_a_document_round_trips_through_a_parser() -> None:
    hostile = "Ü, spät; \\ 日本語のデータ分析と検証 🚀\nsecond line " * 6
    lines = ical.component(
        "VCALENDAR",
        [
            "VERSION:2.0",
            ical.text("PRODID", "-//Test//EN"),
            *ical.component(
                "VEVENT",
                [
                    ical.text("UID", "x@example.com"),
                    ical.utc("DTSTAMP", dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)),
                    ical.date("DTSTART", dt.date(2030, 2, 28)),
                    ical.text("SUMMARY", hostile),
                ],
            ),
        ],
    )
    event = Calendar.from_ical(ical.document(lines)).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == hostile
    assert event.decoded("DTSTART") == dt.date(2030, 2, 28)
    assert event.decoded("DTSTAMP") == dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError):
        ical.utc("DTSTAMP", dt.datetime(2030, 1, 1))
