"""Batched and daily milestone e-mails: the held notices of a recipient become one e-mail.

The delivery worker runs `batch_pass` as a chore. A recipient's BATCHED notices of one
project are due once MAIL_BATCH_QUIET_SECONDS passed without another, or
MAIL_BATCH_MAX_SECONDS after the first, whichever comes first; their DAILY notices (of all
projects) at the first DAILY_DIGEST_TIME in their time zone after the oldest one. The
e-mail tells the net change to each milestone (services/net_changes.py); when nothing
changed on balance, no e-mail is sent.

Once only, with any number of workers: the notices are turned into an e-mail and deleted in
one transaction that first locks the recipient's row, and a worker goes on only if its
DELETE removed every notice it read; the loser's transaction rolls back and leaves nothing.
Nothing is lost on a restart: notices stay in the database until that transaction commits.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from functools import partial

from tortoise.functions import Max, Min
from tortoise.transactions import in_transaction

from infra import clock
from infra.mail_worker import Chore
from infra.outbox import enqueue
from mailers.digest_mailer import ProjectNews, milestone_batch, milestone_digest
from models import MilestoneEmailMode, PendingNotice, Project, User
from services.mail_preferences import MailKind, gets_mail, unsubscribe_url
from services.net_changes import net_changes
from settings import Settings

logger = logging.getLogger("milestones.mail")

# The longest a worker goes without looking for notices held by any process.
LOOK_AGAIN_SECONDS = 30.0


def _now() -> dt.datetime:
    # The clock of due dates (infra/clock.py): a test can let the quiet time run out at once.
    return clock.now()


class _Taken(Exception):
    """Another worker sent some of these notices first: roll this attempt back."""


def next_digest(after: dt.datetime, zone: zoneinfo.ZoneInfo, at: dt.time) -> dt.datetime:
    """The first moment strictly after `after` that is `at` o'clock in `zone`."""
    local = after.astimezone(zone)
    moment = dt.datetime.combine(local.date(), at, tzinfo=zone)
    if moment <= local:
        moment = dt.datetime.combine(local.date() + dt.timedelta(days=1), at, tzinfo=zone)
    return moment


def zone_of(user: User) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(user.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")  # settings are checked when set: a removed zone


async def _render(recipient: User, mode: MilestoneEmailMode, notices: list[PendingNotice]) -> None:
    """Queue the e-mail telling `notices` to `recipient`, if anything changed on balance."""
    lines = net_changes(notices)
    if not lines:
        return
    titles = dict(
        await Project.filter(id__in=list(lines)).values_list("id", "title")  # type: ignore[arg-type]  # Tortoise types pairs loosely
    )
    news = [ProjectNews(str(titles.get(pid, "")), tuple(lines[pid])) for pid in sorted(lines)]
    link = unsubscribe_url(recipient, MailKind.MILESTONE_CHANGES)
    if mode is MilestoneEmailMode.BATCHED:
        [one] = news
        email = milestone_batch(recipient_name=recipient.name, news=one, unsubscribe_url=link)
        project_id: int | None = next(iter(lines))
    else:
        today = _now().astimezone(zone_of(recipient)).date()
        email = milestone_digest(
            recipient_name=recipient.name, projects=news, day=today, unsubscribe_url=link
        )
        project_id = next(iter(lines)) if len(lines) == 1 else None
    await enqueue(email, to=recipient, project_id=project_id)


async def send_held(recipient_id: int, mode: MilestoneEmailMode, project_id: int | None) -> bool:
    """Turn the recipient's held notices (of `project_id`, if given) into one e-mail, once.

    Returns whether this call took them (False: another worker did, or none were left).
    """
    try:
        async with in_transaction():
            # Workers sending to one recipient wait for each other here (PostgreSQL); the
            # DELETE count below guards SQLite, which has no row locks.
            recipient = await User.select_for_update(no_key=True).get_or_none(id=recipient_id)
            held = PendingNotice.filter(recipient_id=recipient_id, mode=mode)
            if project_id is not None:
                held = held.filter(project_id=project_id)
            notices = await held.order_by("id")
            if not notices or recipient is None:
                return False
            ids = [n.id for n in notices]
            if await PendingNotice.filter(id__in=ids).delete() != len(ids):
                raise _Taken
            # Turned off since: the notices go, untold.
            if gets_mail(recipient, MailKind.MILESTONE_CHANGES):
                await _render(recipient, mode, notices)
    except _Taken:
        return False
    logger.info("sent %d held %s notice(s) to user %s", len(ids), mode, recipient_id)
    return True


async def _due_batches(settings: Settings, now: dt.datetime) -> tuple[list[tuple[int, int]], float]:
    """The (recipient, project) batches due at `now`, and seconds until the next falls due."""
    quiet = dt.timedelta(seconds=settings.mail_batch_quiet_seconds)
    longest = dt.timedelta(seconds=settings.mail_batch_max_seconds)
    groups = (
        await PendingNotice.filter(mode=MilestoneEmailMode.BATCHED)
        .annotate(first=Min("created_at"), last=Max("created_at"))
        .group_by("recipient_id", "project_id")
        .values("recipient_id", "project_id", "first", "last")
    )
    due, wait = [], LOOK_AGAIN_SECONDS
    for group in groups:
        at = min(_aware(group["last"]) + quiet, _aware(group["first"]) + longest)
        if at <= now:
            due.append((int(group["recipient_id"]), int(group["project_id"])))
        else:
            wait = min(wait, (at - now).total_seconds())
    return due, wait


async def _due_digests(settings: Settings, now: dt.datetime) -> tuple[list[int], float]:
    """The recipients whose daily digest is due at `now`, and seconds until the next one."""
    groups = (
        await PendingNotice.filter(mode=MilestoneEmailMode.DAILY)
        .annotate(first=Min("created_at"))
        .group_by("recipient_id")
        .values("recipient_id", "first")
    )
    firsts = {int(g["recipient_id"]): _aware(g["first"]) for g in groups}
    users = await User.filter(id__in=list(firsts)) if firsts else []
    due, wait = [], LOOK_AGAIN_SECONDS
    for user in users:
        at = next_digest(firsts[user.id], zone_of(user), settings.daily_digest_time)
        if at <= now:
            due.append(user.id)
        else:
            wait = min(wait, (at - now).total_seconds())
    return due, wait


def _aware(value: object) -> dt.datetime:
    """A timestamp from an aggregate: SQLite returns text, PostgreSQL a datetime."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


async def batch_pass(settings: Settings) -> float:
    """Send the batches and digests that are due; returns seconds until the next pass."""
    now = _now()
    batches, batch_wait = await _due_batches(settings, now)
    for recipient_id, project_id in batches:
        await send_held(recipient_id, MilestoneEmailMode.BATCHED, project_id)
    digests, digest_wait = await _due_digests(settings, now)
    for recipient_id in digests:
        await send_held(recipient_id, MilestoneEmailMode.DAILY, None)
    # Notices held by other processes since this look are found within a tenth of the quiet
    # time (at most LOOK_AGAIN_SECONDS later).
    look_again = max(settings.mail_poll_seconds, settings.mail_batch_quiet_seconds / 10)
    return max(0.0, min(batch_wait, digest_wait, look_again))


def chore(settings: Settings) -> Chore:
    """The batch and digest pass, run by the delivery worker."""
    return Chore("batches", partial(batch_pass, settings))
