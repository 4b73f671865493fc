"""signUp: a new client or freelancer account, signed in at once."""

from __future__ import annotations

from models import Role
from schema.context import Info
from schema.inputs import SignUpInput
from schema.payloads import AuthPayload
from schema.types.common import user_errors
from schema.types.user import UserType
from services import auth
from services.errors import UserInputError


async def sign_up(info: Info, input: SignUpInput) -> AuthPayload | None:
    try:
        user, token = await auth.sign_up(
            email=input.email, password=input.password, name=input.name, role=Role(input.role)
        )
    except UserInputError as e:
        return AuthPayload(errors=user_errors(e.errors))
    return AuthPayload(errors=[], token=token, user=UserType.build(user, user))
