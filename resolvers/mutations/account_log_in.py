"""logIn: exchange e-mail and password for a bearer token."""

from __future__ import annotations

from schema.context import Info
from schema.inputs import LogInInput
from schema.payloads import AuthPayload
from schema.types.common import user_errors
from schema.types.user import UserType
from services import auth
from services.errors import UserInputError


async def log_in(info: Info, input: LogInInput) -> AuthPayload | None:
    try:
        user, token = await auth.log_in(email=input.email, password=input.password)
    except UserInputError as e:
        return AuthPayload(errors=user_errors(e.errors))
    return AuthPayload(errors=[], token=token, user=UserType.build(user, user))
