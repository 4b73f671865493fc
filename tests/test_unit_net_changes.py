"""The pure rules of batched e-mails: net changes, the next digest moment, signed links."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from infra import links
from mailers.digest_mailer import FieldDiff, MilestoneLine
from services.batches import next_digest
from services.net_changes import net_change

OPEN = {"title": "Design", "description": "", "dueDate": "2031-03-01", "completed": False}


def test_net_change_of_a_run_of_changes() -> None:
    assert net_change(None, None) is None  # added, then deleted
    assert net_change(OPEN, OPEN | {"completed": False}) is None  # completed, then reopened
    assert net_change(None, OPEN) == MilestoneLine("added", "Design", "2031-03-01")
    assert net_change(OPEN, None) == MilestoneLine("deleted", "Design", "2031-03-01")
    after = OPEN | {"title": "Design v3", "completed": True}
    assert net_change(OPEN, after) == MilestoneLine(
        "changed",
        "Design v3",
        "2031-03-01",
        (FieldDiff("Title", "Design", "Design v3"), FieldDiff("Status", "open", "completed")),
    )


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
