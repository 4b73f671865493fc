"""The pure rules of batched e-mails: net changes, the next digest moment, signed links."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from infra import links
from mailers.digest_mailer import FieldDiff, MilestoneLine
from models import PendingNotice
from services.batches import next_digest
from services.net_changes import net_change, net_changes

OPEN = {"title": "Design", "description": "", "dueDate": "2031-03-01", "completed": False}


def test_net_change_of_a_run_of_changes() -> None:
    assert net_change(None, None) is None  # added, then deleted
    assert net_change(OPEN, dict(OPEN)) is None  # an edit that changed nothing
    assert net_change(OPEN, OPEN | {"completed": True}) == MilestoneLine(
        "changed", "Design", "2031-03-01", (FieldDiff("Status", "open", "completed"),)
    )
    assert net_change(None, OPEN) == MilestoneLine("added", "Design", "2031-03-01")
    assert net_change(OPEN, None) == MilestoneLine("deleted", "Design", "2031-03-01")
    after = OPEN | {"title": "Design v3", "completed": True}
    assert net_change(OPEN, after) == MilestoneLine(
        "changed",
        "Design v3",
        "2031-03-01",
        (FieldDiff("Title", "Design", "Design v3"), FieldDiff("Status", "open", "completed")),
    )


def notice(project: int, milestone: int, before: Any, after: Any) -> PendingNotice:
    """A held notice as the worker reads it (never saved: folding is pure)."""
    return PendingNotice(project_id=project, milestone_id=milestone, before=before, after=after)


def test_a_run_of_changes_folds_into_one_line_per_milestone() -> None:
    done = OPEN | {"completed": True}
    v2, v3 = OPEN | {"title": "Design v2"}, OPEN | {"title": "Design v3", "dueDate": "2031-04-01"}
    other = OPEN | {"title": "Build"}
    notices = [
        notice(1, 10, OPEN, done),  # completed, then reopened: nothing
        notice(1, 11, OPEN, v2),  # three edits: one old → new per field
        notice(2, 20, None, other),  # added, then deleted: nothing
        notice(1, 10, done, OPEN),
        notice(1, 11, v2, v2 | {"description": "Wireframes"}),
        notice(2, 20, other, None),
        notice(1, 11, v2 | {"description": "Wireframes"}, v3),
        notice(2, 21, other, None),  # deleted (the milestone that existed before the run)
        notice(3, 30, None, other),  # added, then edited: added as it ends up
        notice(3, 30, other, other | {"title": "Build it"}),
    ]
    assert net_changes(notices) == {
        1: [
            MilestoneLine(
                "changed",
                "Design v3",
                "2031-04-01",
                (
                    FieldDiff("Title", "Design", "Design v3"),
                    FieldDiff("Due date", "2031-03-01", "2031-04-01"),
                ),
            )
        ],
        2: [MilestoneLine("deleted", "Build", "2031-03-01")],
        3: [MilestoneLine("added", "Build it", "2031-03-01")],
    }


def test_the_next_digest_is_the_first_such_local_time_after_the_change() -> None:
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    eight = dt.time(8, 0)
    before = dt.datetime(2030, 6, 1, 5, 0, tzinfo=dt.UTC)  # 07:00 in Paris
    assert next_digest(before, paris, eight) == dt.datetime(2030, 6, 1, 8, 0, tzinfo=paris)
    after = dt.datetime(2030, 6, 1, 6, 0, tzinfo=dt.UTC)  # 08:00 in Paris: tomorrow's
    assert next_digest(after, paris, eight) == dt.datetime(2030, 6, 2, 8, 0, tzinfo=paris)
    # Across the change to summer time, still 08:00 on the wall clock.
    spring = dt.datetime(2030, 3, 30, 12, 0, tzinfo=dt.UTC)
    due = next_digest(spring, paris, eight)
    assert due.astimezone(dt.UTC) == dt.datetime(2030, 3, 31, 6, 0, tzinfo=dt.UTC)


def test_a_signed_link_token_cannot_be_altered() -> None:
    previous = links.configure("https://x.example", b"k" * 32)
    try:
        _check_tokens()
    finally:
        links.configure(*previous)  # the suite's in-process servers go on with theirs


def _check_tokens() -> None:
    token = links.sign("unsubscribe 7 reminders")
    assert links.verify(token) == "unsubscribe 7 reminders"
    assert links.verify(links.sign("unsubscribe 8 reminders")[:-1] + token[-1]) is None
    for bad in ("", "A", token[:-1], token + "A", "%%%", "x" * 500):
        assert links.verify(bad) is None, bad
    links.configure("https://x.example", b"j" * 32)  # another deployment's key
    assert links.verify(token) is None


def test_the_client_word_shows_as_the_status_and_the_reason() -> None:
    done = OPEN | {"completed": True, "accepted": False}
    accepted = done | {"accepted": True}
    assert net_change(done, accepted) == MilestoneLine(
        "changed", "Design", "2031-03-01", (FieldDiff("Status", "completed", "accepted"),)
    )
    sent_back = OPEN | {"accepted": False, "changesRequested": "Labels."}
    assert net_change(done, sent_back) == MilestoneLine(
        "changed",
        "Design",
        "2031-03-01",
        (FieldDiff("Status", "completed", "open"), FieldDiff("Changes requested", "", "Labels.")),
    )
    # Notices held before acceptance existed have no "accepted": read as not accepted.
    line = net_change(OPEN, accepted)
    assert line is not None and line.diffs == (FieldDiff("Status", "open", "accepted"),)
