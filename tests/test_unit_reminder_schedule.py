"""services/reminder_schedule.py and services/deadlines.py without a server: which reminders
a due date has, at which instants, in which zone."""

from __future__ import annotations

import datetime as dt

from models import ReminderKind
from services.deadlines import due_at, is_overdue, local_moment
from services.reminder_schedule import ReminderPolicy, ahead, next_overdue, repeat

POLICY = ReminderPolicy(due_soon_days=(3, 1), hour=9, overdue_repeat_days=7)
DUE = dt.date(2030, 3, 29)  # Europe/Berlin moves its clocks forward early on 31 March 2030
BERLIN = "Europe/Berlin"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_everything_ahead_of_a_new_milestone() -> None:
    planned = ahead(POLICY, DUE, BERLIN, utc(2030, 3, 1))
    assert [(p.kind, p.offset_days, p.due_at) for p in planned] == [
        (ReminderKind.DUE_SOON, 3, utc(2030, 3, 26, 8)),  # 09:00 CET
        (ReminderKind.DUE_SOON, 1, utc(2030, 3, 28, 8)),
        (ReminderKind.OVERDUE, 1, utc(2030, 3, 30, 8)),
    ]


def test_passed_moments_are_not_planned_and_a_reopened_milestone_is_overdue_next_morning() -> None:
    planned = ahead(POLICY, DUE, BERLIN, utc(2030, 3, 27))
    assert [(p.kind, p.offset_days) for p in planned] == [
        (ReminderKind.DUE_SOON, 1),
        (ReminderKind.OVERDUE, 1),
    ]
    # Reopened on 2 April at noon (CEST): the next 09:00 is on 3 April.
    reopened = next_overdue(POLICY, DUE, BERLIN, utc(2030, 4, 2, 10))
    assert (reopened.offset_days, reopened.due_at) == (5, utc(2030, 4, 3, 7))


def test_repeats_keep_their_rhythm_and_skip_what_a_stopped_worker_missed() -> None:
    after_first = repeat(POLICY, DUE, 1, BERLIN, utc(2030, 3, 30, 8))
    assert (after_first.offset_days, after_first.due_at) == (8, utc(2030, 4, 6, 7))
    # Sent five weeks late: the next one is the first of the series still ahead.
    late = repeat(POLICY, DUE, 1, BERLIN, utc(2030, 5, 5, 12))
    assert late.offset_days % 7 == 1 and late.due_at > utc(2030, 5, 5, 12)
    assert late.due_at - utc(2030, 5, 5, 12) <= dt.timedelta(days=7)


def test_a_day_ends_at_the_next_midnight_even_across_a_clock_change() -> None:
    assert due_at(DUE, "Pacific/Kiritimati") == utc(2030, 3, 29, 10)
    assert due_at(DUE, "Pacific/Pago_Pago") == utc(2030, 3, 30, 11)
    assert due_at(dt.date(2030, 3, 30), BERLIN) == utc(2030, 3, 30, 23)  # CET midnight
    assert due_at(dt.date(2030, 3, 31), BERLIN) == utc(2030, 3, 31, 22)  # CEST midnight
    # An hour the clock skips is the jump: 02:00 on 31 March is the instant it reads 03:00 CEST.
    assert local_moment(dt.date(2030, 3, 31), 2, BERLIN) == utc(2030, 3, 31, 1)
    assert not is_overdue(DUE, False, BERLIN, utc(2030, 3, 29, 22, 59, 59))
    assert is_overdue(DUE, False, BERLIN, utc(2030, 3, 29, 23))
    assert not is_overdue(DUE, True, BERLIN, utc(2030, 4, 29))
