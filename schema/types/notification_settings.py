"""NotificationSettings: how a user hears of changes by e-mail (their own settings only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

from models import MilestoneEmailMode as MilestoneEmailModeModel
from models import User
from schema.types.common import described_enum

if TYPE_CHECKING:
    MilestoneEmailMode = MilestoneEmailModeModel
else:
    MilestoneEmailMode = described_enum(
        MilestoneEmailModeModel,
        name="MilestoneEmailMode",
        description="How a user is e-mailed the changes to their projects' milestones.",
        values={
            MilestoneEmailModeModel.IMMEDIATE: (
                "One e-mail per change (the default, as the operations contract says)."
            ),
            MilestoneEmailModeModel.BATCHED: (
                "Changes to a project collected until a few quiet minutes pass, then one "
                "e-mail with the net changes."
            ),
            MilestoneEmailModeModel.DAILY: (
                "One digest a day, in the morning of the user's time zone, when something changed."
            ),
            MilestoneEmailModeModel.OFF: "No milestone-change e-mails.",
        },
    )


@strawberry.type(
    name="NotificationSettings",
    description=(
        "Which e-mails a user gets, and how. Admin-facing and security e-mails are always sent."
    ),
)
class NotificationSettingsType:
    milestone_changes: MilestoneEmailMode = strawberry.field(
        description="How changes to milestones are e-mailed."
    )
    reminders: bool = strawberry.field(
        description="Reminder e-mails (no milestones yet, due soon, overdue)."
    )
    time_zone: str = strawberry.field(description="IANA time zone for daily digests. Default UTC.")

    @classmethod
    def build(cls, user: User) -> NotificationSettingsType:
        return cls(
            milestone_changes=MilestoneEmailModeModel(user.milestone_emails),
            reminders=bool(user.reminder_emails),
            time_zone=user.time_zone,
        )
