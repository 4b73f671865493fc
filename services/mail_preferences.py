"""Who gets which e-mail, and how: each user's notification settings, and unsubscribing.

`delivery_mode` is the one place a user's settings are applied to an e-mail: every e-mail
a person may turn off asks it first. Admin-facing and security e-mails (`MailKind.PLATFORM`)
are always sent, and carry no unsubscribe link.

An unsubscribe link turns one kind of e-mail off for one person without a login, so it
works only as long as it says what the person still wants: it carries the version of that
kind's setting, raised each time the person turns the kind back on (a link sent before that
is out of date: it would undo their choice), and the day it was made, after which it works
for LINK_DAYS. Out-of-date links change nothing and say so (404).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from enum import Enum, StrEnum
from functools import cache

from infra import clock, links
from models import MilestoneEmailMode, User
from services.validation import Checker


class MailKind(StrEnum):
    """The kinds of e-mail a person can turn off (as named in unsubscribe links), and the
    platform's own, which they cannot."""

    MILESTONE_CHANGES = "milestone-changes"
    REMINDERS = "reminders"
    PLATFORM = "platform"


# What each kind is called on the unsubscribe pages.
KIND_NAMES = {
    MailKind.MILESTONE_CHANGES: "e-mails about milestone changes",
    MailKind.REMINDERS: "reminder e-mails",
}


def delivery_mode(user: User, kind: MailKind) -> MilestoneEmailMode:
    """How `user` gets e-mails of `kind`: IMMEDIATE, BATCHED, DAILY, or OFF (not at all)."""
    if kind is MailKind.MILESTONE_CHANGES:
        return MilestoneEmailMode(user.milestone_emails)
    if kind is MailKind.REMINDERS:
        return MilestoneEmailMode.IMMEDIATE if user.reminder_emails else MilestoneEmailMode.OFF
    return MilestoneEmailMode.IMMEDIATE


def gets_mail(user: User, kind: MailKind) -> bool:
    """Whether `user` gets e-mails of `kind` at all."""
    return delivery_mode(user, kind) is not MilestoneEmailMode.OFF


# How long an unsubscribe link works. Generous: mail providers send the one-click POST when
# the reader presses their "unsubscribe" button, which they show on old e-mails too, and
# people clear out a folder months later; a link that fails there fails silently. Each
# e-mail of a kind carries a fresh link, so a longer-kept one is rarely needed.
LINK_DAYS = 120
# The settings column holding each kind's version.
_VERSION = {
    MailKind.MILESTONE_CHANGES: "milestone_emails_version",
    MailKind.REMINDERS: "reminder_emails_version",
}


@dataclass(frozen=True, slots=True)
class UnsubscribeLink:
    """What an unsubscribe token says: whose e-mails, which kind, made when and under
    which version of that kind's setting."""

    user_id: int
    kind: MailKind
    version: int
    day: int  # days since 1970-01-01 (UTC) on the day the link was made


class LinkState(Enum):
    VALID = "valid"
    OUT_OF_DATE = "out of date"  # expired, or made before the kind was turned back on
    UNKNOWN = "unknown"  # the user is gone


_EPOCH = dt.date(1970, 1, 1).toordinal()


def _today() -> int:
    return clock.now().toordinal() - _EPOCH


def unsubscribe_url(user: User, kind: MailKind) -> str | None:
    """The one-click link that turns `kind` off for `user`; None without PUBLIC_URL."""
    if kind is MailKind.PLATFORM or links.public_url("/") is None:
        return None
    version = getattr(user, _VERSION[kind])
    token = links.sign(f"unsubscribe {user.id} {kind} {version} {_today()}")
    return links.public_url(f"/unsubscribe/{token}")


def read_unsubscribe_token(token: str) -> UnsubscribeLink | None:
    """What an unsubscribe token says, or None for a token we did not sign.

    Tokens of the first form ("unsubscribe <user> <kind>", without version or day) are
    refused: they never expired and outlived re-subscriptions.
    """
    text = links.verify(token)
    if text is None:
        return None
    parts = text.split(" ")
    if len(parts) != 5 or parts[0] != "unsubscribe" or parts[2] not in KIND_NAMES:
        return None
    user_id, _, version, day = parts[1:]
    if not (user_id.isdigit() and version.isdigit() and day.isdigit()):
        return None
    return UnsubscribeLink(int(user_id), MailKind(parts[2]), int(version), int(day))


def _current(link: UnsubscribeLink) -> dict[str, object]:
    """The filter of the user a still valid `link` names (empty when it expired)."""
    if not 0 <= _today() - link.day <= LINK_DAYS:
        return {}
    return {"id": link.user_id, _VERSION[link.kind]: link.version}


async def link_state(link: UnsubscribeLink) -> LinkState:
    """Whether `link` may still unsubscribe its user."""
    current = _current(link)
    if current and await User.filter(**current).exists():
        return LinkState.VALID
    if await User.filter(id=link.user_id).exists():
        return LinkState.OUT_OF_DATE
    return LinkState.UNKNOWN


async def unsubscribe(link: UnsubscribeLink) -> LinkState:
    """Turn the link's kind off for its user, if the link is still valid.

    One conditional UPDATE: a re-subscription that commits first makes it change nothing.
    """
    if link.kind is MailKind.MILESTONE_CHANGES:
        changes: dict[str, object] = {"milestone_emails": MilestoneEmailMode.OFF}
    else:
        changes = {"reminder_emails": False}
    current = _current(link)
    if current and await User.filter(**current).update(**changes):
        return LinkState.VALID
    return await link_state(link)


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_time_zone(name: str) -> bool:
    return name in _zones()


async def update_settings(
    user: User,
    *,
    milestone_changes: MilestoneEmailMode | None,
    reminders: bool | None,
    time_zone: str | None,
) -> User:
    """Change the given settings of `user`; those left out (None) stay."""
    check = Checker()
    if time_zone is not None and not is_time_zone(time_zone.strip()):
        check.fail(
            "INVALID", "timeZone", "Unknown time zone: use an IANA name such as Europe/Paris."
        )
    check.done()
    fields: list[str] = []
    if milestone_changes is not None:
        if user.milestone_emails == MilestoneEmailMode.OFF != milestone_changes:
            _resubscribe(user, MailKind.MILESTONE_CHANGES, fields)
        user.milestone_emails = milestone_changes
        fields.append("milestone_emails")
    if reminders is not None:
        if reminders and not user.reminder_emails:
            _resubscribe(user, MailKind.REMINDERS, fields)
        user.reminder_emails = reminders
        fields.append("reminder_emails")
    if time_zone is not None:
        user.time_zone = time_zone.strip()
        fields.append("time_zone")
    if fields:
        await user.save(update_fields=fields)
    return user


def _resubscribe(user: User, kind: MailKind, fields: list[str]) -> None:
    """`kind` is turned back on: the unsubscribe links sent before stop working."""
    column = _VERSION[kind]
    setattr(user, column, getattr(user, column) + 1)
    fields.append(column)
