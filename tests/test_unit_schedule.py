"""services/schedule.py `schedule_warnings`, on models built in memory (no database).

The last milestone (the list is chronological) should fall on the project's completion
date; otherwise one warning names both dates and whether it is before or after.
"""

from __future__ import annotations

import datetime as dt

from models import Milestone, Project
from services.schedule import schedule_warnings

COMPLETION = dt.date(2030, 6, 30)
CODE = "LAST_MILESTONE_NOT_ON_COMPLETION_DATE"


def project() -> Project:
    return Project(title="Churn model", completion_date=COMPLETION)


def milestones(*dates: dt.date) -> list[Milestone]:
    return [Milestone(title=f"M{n}", due_date=d) for n, d in enumerate(dates)]


def test_no_warning_without_milestones() -> None:
    assert schedule_warnings(project(), []) == []


def test_no_warning_when_the_last_milestone_is_on_the_completion_date() -> None:
    assert schedule_warnings(project(), milestones(COMPLETION)) == []
    assert schedule_warnings(project(), milestones(dt.date(2030, 1, 5), COMPLETION)) == []


def test_a_last_milestone_before_the_completion_date() -> None:
    [warning] = schedule_warnings(project(), milestones(dt.date(2030, 1, 5), dt.date(2030, 6, 1)))
    assert warning.code == CODE
    assert warning.message == (
        "The last milestone is due 2030-06-01, before the project's completion date 2030-06-30."
    )


def test_a_last_milestone_after_the_completion_date() -> None:
    [warning] = schedule_warnings(project(), milestones(COMPLETION, dt.date(2030, 7, 1)))
    assert warning.code == CODE
    assert "2030-07-01" in warning.message and "2030-06-30" in warning.message
    assert "after" in warning.message and "before" not in warning.message


def test_only_the_last_milestone_counts() -> None:
    # An earlier milestone on the completion date does not settle it...
    [warning] = schedule_warnings(project(), milestones(COMPLETION, dt.date(2030, 8, 1)))
    assert "2030-08-01" in warning.message
    # ...and earlier milestones off the date do not matter.
    early = milestones(dt.date(2030, 1, 1), dt.date(2030, 2, 1), COMPLETION)
    assert schedule_warnings(project(), early) == []


def test_one_day_off_is_enough() -> None:
    day = dt.timedelta(days=1)
    for last, when in ((COMPLETION - day, "before"), (COMPLETION + day, "after")):
        [warning] = schedule_warnings(project(), milestones(last))
        assert f"{last.isoformat()}, {when}" in warning.message
