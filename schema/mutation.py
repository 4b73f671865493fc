"""How every mutation field is declared: its resolver, permissions, throttle, user errors.

A service raises `UserInputError` for what the user can fix, rolling its transaction back;
`UserErrorsInPayload` turns it into the `errors` of the mutation's payload, once for all
mutations, so resolvers only authorize, call a service and build the success payload.
A mutation declared with a `throttle` spends one unit of that budget on every call, each
alias in a document included, before its resolver does any work (`Throttled`).
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions.field_extension import AsyncExtensionResolver, FieldExtension
from strawberry.types.base import StrawberryOptional
from strawberry.types.field import StrawberryField

from schema.context import Info
from schema.types.common import user_errors
from services import throttles
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


class Throttled(FieldExtension):
    """Spends one unit of `budget` per resolution, for the viewer or the client's address;
    a refusal is a top-level RATE_LIMITED error and the resolver does not run."""

    def __init__(self, budget: throttles.Budget) -> None:
        self.budget = budget

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any
    ) -> Any:
        viewer = info.context.viewer
        await throttles.current().spend(
            self.budget,
            user_id=viewer.pk if viewer is not None else None,
            address=info.context.client_address,
        )
        return await next_(source, info, **kwargs)


def mutation(
    resolver: Any,
    description: str,
    *permissions: type,
    throttle: throttles.Budget | None = None,
) -> Any:
    """A mutation field whose payload carries `errors`, counted against `throttle` if given."""
    extensions: list[FieldExtension] = [UserErrorsInPayload()]
    if throttle is not None:
        # Extensions listed later wrap earlier ones: the budget is spent after the
        # permission check (which wraps them all) and before anything else runs.
        extensions.append(Throttled(throttle))
    return strawberry.mutation(
        resolver=resolver,
        description=description,
        permission_classes=list(permissions),
        extensions=extensions,
    )
