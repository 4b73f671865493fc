"""How the response of an operation is measured against MAX_RESPONSE_BYTES, and its refusal.

The cost limit (schema/cost.py) bounds the nodes of an answer, not its bytes: 30 aliases of
`chat(last: 100) { body }` cost 3,001 and answered 12 MB, since a message holds up to 4,000
characters. The executor (schema/executor.py) therefore keeps a running count of the bytes
of each answer as its fields resolve, and stops once it is past the budget.

The count is close to the JSON's size, not exact, and never needs the JSON: a field counts
its name and FIELD_BYTES (quotes, colon, comma), a string its UTF-8 size, any other value
SCALAR_BYTES, an error ERROR_BYTES and its message. JSON escapes are not counted (a line
break takes two bytes in the JSON, one here): a bound within a small factor, not a size.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, OperationType

CODE = "RESPONSE_TOO_LARGE"
# The default of MAX_RESPONSE_BYTES. The largest answer the API is meant to give, a page of
# 50 projects with 100 milestones each and each project's last 20 messages of 2,000
# characters, is about 3.4 MB (docs/security.md has the sum); twice that still fits, for
# text in scripts that take two bytes a character.
DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024
# `"name":` and a comma around a field's name.
FIELD_BYTES = 4
# A number, a boolean or null.
SCALAR_BYTES = 8
# An error's locations, path and code, around its message.
ERROR_BYTES = 200


def value_bytes(value: Any) -> int:
    """The bytes a leaf value takes in the JSON response, near enough."""
    if value.__class__ is str:
        # isascii() reads a flag of the string: only other text is encoded to be measured.
        return len(value) + 2 if value.isascii() else len(value.encode()) + 2
    return SCALAR_BYTES


def response_too_large(operation: OperationType, limit: int) -> GraphQLError:
    """The one error an operation whose response passed `limit` bytes is answered with."""
    if operation is OperationType.MUTATION:
        message = (
            f"The mutation ran, but its answer would be larger than {limit} bytes, the most "
            "this server sends: ask for fewer fields in its payload, and read the rest with "
            "queries."
        )
    else:
        message = (
            f"The answer would be larger than {limit} bytes, the most this server sends: ask "
            "for fewer items (a smaller `first` or `last`) or fewer fields, or split the query."
        )
    return GraphQLError(message, extensions={"code": CODE, "limit": limit})
