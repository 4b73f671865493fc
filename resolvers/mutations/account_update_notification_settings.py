"""updateNotificationSettings: the viewer changes their own e-mail settings."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.context import Info
from schema.inputs import UpdateNotificationSettingsInput
from schema.payloads import NotificationSettingsPayload
from schema.types.notification_settings import NotificationSettingsType
from services import mail_preferences


async def update_notification_settings(
    info: Info,
    input: Annotated[
        UpdateNotificationSettingsInput,
        strawberry.argument(description="The settings to change; those left out stay."),
    ],
) -> NotificationSettingsPayload | None:
    user = await mail_preferences.update_settings(
        info.context.require_viewer(),
        milestone_changes=input.milestone_changes,
        reminders=input.reminders,
        time_zone=input.time_zone,
    )
    return NotificationSettingsPayload(errors=[], settings=NotificationSettingsType.build(user))
