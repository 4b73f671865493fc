"""Who gets which e-mail, and how: each user's notification settings, and unsubscribing.

`delivery_mode` is the one place a user's settings are applied to an e-mail: every e-mail
a person may turn off asks it first. Admin-facing and security e-mails (`MailKind.PLATFORM`)
are always sent, and carry no unsubscribe link.
"""

from __future__ import annotations

import zoneinfo
from enum import StrEnum
from functools import cache

from infra import links
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


def unsubscribe_url(user: User, kind: MailKind) -> str | None:
    """The one-click link that turns `kind` off for `user`; None without PUBLIC_URL."""
    if kind is MailKind.PLATFORM or links.public_url("/") is None:
        return None
    return links.public_url(f"/unsubscribe/{links.sign(f'unsubscribe {user.id} {kind}')}")


def unsubscribe_target(token: str) -> tuple[int, MailKind] | None:
    """The user and kind an unsubscribe token names, or None for a token we did not sign."""
    text = links.verify(token)
    if text is None:
        return None
    verb, _, rest = text.partition(" ")
    user_id, _, kind = rest.partition(" ")
    if verb != "unsubscribe" or not user_id.isdigit() or kind not in KIND_NAMES:
        return None
    return int(user_id), MailKind(kind)


async def unsubscribe(user_id: int, kind: MailKind) -> bool:
    """Turn `kind` off for the user; False if there is no such user (any more)."""
    if kind is MailKind.MILESTONE_CHANGES:
        changes: dict[str, object] = {"milestone_emails": MilestoneEmailMode.OFF}
    else:
        changes = {"reminder_emails": False}
    return bool(await User.filter(id=user_id).update(**changes))


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
    fields = []
    if milestone_changes is not None:
        user.milestone_emails = milestone_changes
        fields.append("milestone_emails")
    if reminders is not None:
        user.reminder_emails = reminders
        fields.append("reminder_emails")
    if time_zone is not None:
        user.time_zone = time_zone.strip()
        fields.append("time_zone")
    if fields:
        await user.save(update_fields=fields)
    return user


async def user_exists(user_id: int) -> bool:
    return await User.filter(id=user_id).exists()
