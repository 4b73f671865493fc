"""sendChatMessage: a member of the project, or an admin, writes in its chat."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import Project
from schema.authorize import authorized_find
from schema.context import Info
from schema.inputs import SendChatMessageInput
from schema.payloads import ChatMessagePayload
from schema.types.project import ChatMessageType
from services import access, chat


async def send_chat_message(
    info: Info,
    input: Annotated[
        SendChatMessageInput, strawberry.argument(description="The project and the message.")
    ],
) -> ChatMessagePayload | None:
    project = await authorized_find(info, Project, input.project_id, access.can_post_to_chat)
    viewer = info.context.require_viewer()
    message = await chat.send_message(viewer, project, input.body)
    return ChatMessagePayload(errors=[], message=ChatMessageType.build(message, viewer))
