"""Connection argument checks shared by every paginated field."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types.unset import UnsetType

from schema.ids import from_cursor
from services.errors import BadUserInput

MAX_PAGE = 100
# What a connection returns when neither `first` nor `last` is given.
DEFAULT_PAGE = 20

# The arguments of the chat connection, as declared on `Project.chat`.
_PAGE_ARGUMENT = "How many messages to return, 1 to 100."
ChatFirst = Annotated[
    int | None, strawberry.argument(description=f"{_PAGE_ARGUMENT} Pages forwards.")
]
ChatAfter = Annotated[
    str | None, strawberry.argument(description="Return the messages after this cursor.")
]
ChatLast = Annotated[
    int | None, strawberry.argument(description=f"{_PAGE_ARGUMENT} Pages back; 20 by default.")
]
ChatBefore = Annotated[
    str | None, strawberry.argument(description="Return the messages before this cursor.")
]


def page_size(name: str, value: int | None) -> int | None:
    if value is None or isinstance(value, UnsetType):
        return None
    if not 1 <= value <= MAX_PAGE:
        raise BadUserInput(f"`{name}` must be between 1 and {MAX_PAGE}.", argument=name)
    return value


def cursor(name: str, value: str | None, kind: str) -> int | None:
    if value is None or isinstance(value, UnsetType):
        return None
    pk = from_cursor(value, kind)
    if pk is None:
        raise BadUserInput(f"`{name}` is not a valid cursor.", argument=name)
    return pk


def chat_page_args(
    first: int | None, after: str | None, last: int | None, before: str | None
) -> dict[str, Any]:
    args = {
        "first": page_size("first", first),
        "after": cursor("after", after, "chat"),
        "last": page_size("last", last),
        "before": cursor("before", before, "chat"),
    }
    if args["first"] is not None and args["last"] is not None:
        raise BadUserInput("Pass `first` or `last`, not both.", argument="last")
    if args["first"] is None and args["last"] is None:
        args["last"] = DEFAULT_PAGE  # the newest messages
    return args
