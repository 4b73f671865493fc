"""Subscription resolvers: live chat events of one project."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from models import ChatMessage
from schema.context import Info
from schema.types.chat import ChatMessageType
from services import access, events


async def chat_events(
    info: Info, project_id: strawberry.ID
) -> AsyncGenerator[ChatMessageType, None]:
    viewer = info.context.require_viewer()
    project = await access.visible_project(viewer, project_id)
    async for message_id in events.hub().subscribe(project.id):
        message = await ChatMessage.get_or_none(id=message_id)
        if message is not None:
            yield ChatMessageType.build(message, viewer)
