"""signUp: a new client or freelancer account, signed in at once."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import Role
from schema.context import Info
from schema.inputs import SignUpInput
from schema.payloads import AuthPayload
from schema.types.user import UserType
from services import auth


async def sign_up(
    info: Info,
    input: Annotated[SignUpInput, strawberry.argument(description="The new account.")],
) -> AuthPayload | None:
    user, token = await auth.sign_up(
        email=input.email, password=input.password, name=input.name, role=Role(input.role)
    )
    return AuthPayload(errors=[], token=token, user=UserType.build(user, user))
