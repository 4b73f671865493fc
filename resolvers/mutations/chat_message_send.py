"""sendChatMessage: a member of the project, or an admin, writes in its chat."""

from __future__ import annotations

from schema.context import Info
from schema.ids import pk_of
from schema.inputs import SendChatMessageInput
from schema.payloads import ChatMessagePayload
from schema.types.chat import ChatMessageType
from schema.types.common import user_errors
from services import chat
from services.errors import UserInputError


async def send_chat_message(info: Info, input: SendChatMessageInput) -> ChatMessagePayload | None:
    viewer = info.context.require_viewer()
    try:
        message = await chat.send_message(
            viewer, pk_of(input.project_id, "Project") or 0, input.body
        )
    except UserInputError as e:
        return ChatMessagePayload(errors=user_errors(e.errors))
    return ChatMessagePayload(errors=[], message=ChatMessageType.build(message, viewer))
