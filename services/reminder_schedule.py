"""When a milestone's due-soon and overdue reminders go out: pure rules, no database.

A reminder goes out at the reminder hour (REMINDER_HOUR) of a day in the project's time
zone: due soon, MILESTONE_DUE_SOON_DAYS days before the due date; overdue, the morning
after the due day has ended, then every MILESTONE_OVERDUE_REPEAT_DAYS days while the
milestone stays open. Its offset is that day's distance from the due date in days (before
it for DUE_SOON, after it for OVERDUE): with the due date and the kind, the reminder's key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from models import ReminderKind
from services.deadlines import local_moment, today
from settings import Settings


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """The operator's reminder settings."""

    due_soon_days: tuple[int, ...] = (3, 1)
    hour: int = 9
    overdue_repeat_days: int = 7

    @classmethod
    def from_settings(cls, settings: Settings) -> ReminderPolicy:
        return cls(
            due_soon_days=settings.milestone_due_soon_days,
            hour=settings.reminder_hour,
            overdue_repeat_days=settings.milestone_overdue_repeat_days,
        )


@dataclass(frozen=True, slots=True)
class Planned:
    """One reminder of a due date: its kind, offset in days and the instant it goes out."""

    kind: ReminderKind
    offset_days: int
    due_at: dt.datetime


def _on_day(
    policy: ReminderPolicy, kind: ReminderKind, due_date: dt.date, day: dt.date, time_zone: str
) -> Planned:
    offset = (due_date - day).days if kind == ReminderKind.DUE_SOON else (day - due_date).days
    return Planned(kind, offset, local_moment(day, policy.hour, time_zone))


def next_overdue(
    policy: ReminderPolicy, due_date: dt.date, time_zone: str, now: dt.datetime
) -> Planned:
    """The first overdue reminder still ahead at `now`.

    The morning after the due day; for a milestone reopened (or first armed) after that, the
    next reminder hour from `now` on, so a reopened milestone is told overdue again at once
    rather than at the next repeat.
    """
    first = _on_day(
        policy, ReminderKind.OVERDUE, due_date, due_date + dt.timedelta(days=1), time_zone
    )
    if first.due_at > now:
        return first
    day = today(time_zone, now)
    planned = _on_day(policy, ReminderKind.OVERDUE, due_date, day, time_zone)
    if planned.due_at <= now:
        planned = _on_day(
            policy, ReminderKind.OVERDUE, due_date, day + dt.timedelta(days=1), time_zone
        )
    return planned


def ahead(
    policy: ReminderPolicy, due_date: dt.date, time_zone: str, now: dt.datetime
) -> list[Planned]:
    """Every reminder an open milestone still has ahead at `now` (the next overdue one only:
    each repeat is planned when the one before it goes out)."""
    planned = [
        _on_day(policy, ReminderKind.DUE_SOON, due_date, due_date - dt.timedelta(days=d), time_zone)
        for d in policy.due_soon_days
    ]
    soon = [p for p in planned if p.due_at > now]
    return [*soon, next_overdue(policy, due_date, time_zone, now)]


def repeat(
    policy: ReminderPolicy, due_date: dt.date, offset_days: int, time_zone: str, now: dt.datetime
) -> Planned:
    """The overdue reminder after the one of `offset_days`: the repeat interval later, or the
    first such day still ahead (a worker that was stopped for weeks sends one, not each one
    it missed)."""
    every = policy.overdue_repeat_days
    day = due_date + dt.timedelta(days=offset_days + every)
    behind = (today(time_zone, now) - day).days
    if behind > 0:
        day += dt.timedelta(days=-(-behind // every) * every)
    planned = _on_day(policy, ReminderKind.OVERDUE, due_date, day, time_zone)
    if planned.due_at <= now:
        planned = _on_day(
            policy, ReminderKind.OVERDUE, due_date, day + dt.timedelta(days=every), time_zone
        )
    return planned
