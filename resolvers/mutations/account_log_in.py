"""logIn: exchange e-mail and password for a bearer token."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.context import Info
from schema.inputs import LogInInput
from schema.payloads import AuthPayload
from schema.types.user import UserType
from services import auth


async def log_in(
    info: Info,
    input: Annotated[LogInInput, strawberry.argument(description="The credentials.")],
) -> AuthPayload | None:
    user, token = await auth.log_in(
        email=input.email, password=input.password, client_address=info.context.client_address
    )
    return AuthPayload(errors=[], token=token, user=UserType.build(user, user))
