"""Errors the services raise.

Two kinds, as the contract says: `ApiError` for access and protocol problems (they become
top-level GraphQL errors carrying `extensions.code`), and `UserInputError` for problems the
user can fix (they become the `errors` list of a mutation payload).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ApiError(Exception):
    """A top-level error with a stable `extensions.code`; never masked."""

    code = "INTERNAL"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.extensions: dict[str, Any] = {"code": self.code, **extensions}


class Unauthenticated(ApiError):
    code = "UNAUTHENTICATED"

    def __init__(self, message: str = "Sign in to do this.") -> None:
        super().__init__(message)


class NotFound(ApiError):
    code = "NOT_FOUND"

    def __init__(self, message: str = "Not found.") -> None:
        super().__init__(message)


class Forbidden(ApiError):
    code = "FORBIDDEN"

    def __init__(self, message: str = "You are not allowed to do this.") -> None:
        super().__init__(message)


class BadUserInput(ApiError):
    code = "BAD_USER_INPUT"


class RateLimited(ApiError):
    code = "RATE_LIMITED"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Too many attempts. Try again in {retry_after} seconds.", retryAfter=retry_after
        )


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem the user can fix: a UserErrorCode, the input field path, a message."""

    code: str
    field: tuple[str, ...] | None
    message: str


class UserInputError(Exception):
    """Raised inside a transaction so that it rolls back; resolvers turn it into payload errors."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors

    @classmethod
    def single(cls, code: str, field: str | None, message: str) -> UserInputError:
        return cls([FieldError(code, (field,) if field else None, message)])
