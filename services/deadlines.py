"""When a due date ends, in the project's time zone: the rules `dueAt`, `overdue`, the
IN_THE_PAST check and the reminders share.

A due date is a plain date; it ends when the next day starts in the project's zone (IANA
name, kept on the project). Instants are UTC datetimes.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

from infra import clock

DEFAULT_TIME_ZONE = "UTC"


@functools.cache
def _known_zones() -> frozenset[str]:
    # The IANA names tzdata ships; ZoneInfo alone would also take file paths. "localtime"
    # (this machine's zone, whatever it is) and "posixrules" are files, not zones.
    return frozenset(zoneinfo.available_timezones()) - {"localtime", "posixrules", "Factory"}


def is_time_zone(name: str) -> bool:
    """Whether `name` is an IANA time zone name, such as Europe/Berlin."""
    return name in _known_zones()


@functools.cache
def zone(name: str) -> zoneinfo.ZoneInfo:
    """The zone of a project (its stored name is always a known one)."""
    return zoneinfo.ZoneInfo(name if is_time_zone(name) else DEFAULT_TIME_ZONE)


def local_moment(day: dt.date, hour: int, time_zone: str) -> dt.datetime:
    """The instant (UTC) at which `day` reads `hour`:00 in the zone.

    An hour skipped by a clock change is taken as the instant the clock jumped over it
    (zoneinfo's reading of a time in a gap, fold 0), so every day has its moment.
    """
    local = dt.datetime.combine(day, dt.time(hour), tzinfo=zone(time_zone))
    return local.astimezone(dt.UTC)


@functools.lru_cache(maxsize=4096)
def due_at(due_date: dt.date, time_zone: str) -> dt.datetime:
    """The end of the due day: the instant the next day starts in the zone."""
    return local_moment(due_date + dt.timedelta(days=1), 0, time_zone)


def today(time_zone: str, now: dt.datetime | None = None) -> dt.date:
    """The date it is in the zone at `now` (the clock's now by default)."""
    return (now or clock.now()).astimezone(zone(time_zone)).date()


def is_overdue(
    due_date: dt.date, completed: bool, time_zone: str, now: dt.datetime | None = None
) -> bool:
    """Open, and its due day has ended in the zone. `completed`: COMPLETED or ACCEPTED (an
    accepted milestone was completed first, and stays so)."""
    return not completed and (now or clock.now()) >= due_at(due_date, time_zone)
