"""How every mutation field is declared: its resolver, permissions, and user errors as data.

A service raises `UserInputError` for what the user can fix, rolling its transaction back;
`UserErrorsInPayload` turns it into the `errors` of the mutation's payload, once for all
mutations, so resolvers only authorize, call a service and build the success payload.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions.field_extension import AsyncExtensionResolver, FieldExtension
from strawberry.types.base import StrawberryOptional
from strawberry.types.field import StrawberryField

from schema.context import Info
from schema.types.common import user_errors
from services.errors import UserInputError


class UserErrorsInPayload(FieldExtension):
    """Answers a UserInputError with the field's payload type, `errors` filled in."""

    payload: type

    def apply(self, field: StrawberryField) -> None:
        payload = field.type
        if isinstance(payload, StrawberryOptional):
            payload = payload.of_type
        if not isinstance(payload, type) or "errors" not in getattr(payload, "__annotations__", {}):
            raise TypeError(f"{field.python_name} does not return a payload with `errors`")
        self.payload = payload

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any
    ) -> Any:
        try:
            return await next_(source, info, **kwargs)
        except UserInputError as error:
            return self.payload(errors=user_errors(error.errors))


def mutation(resolver: Any, description: str, *permissions: type) -> Any:
    """A mutation field whose payload carries `errors`."""
    return strawberry.mutation(
        resolver=resolver,
        description=description,
        permission_classes=list(permissions),
        extensions=[UserErrorsInPayload()],
    )
