"""Input rules shared by the mutations, each returning the cleaned value or recording an error.

A `Checker` collects every problem of one input, so a client learns them all at once.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from services.errors import FieldError, UserInputError

# A pragmatic address check: one @, a dot in the domain, no spaces or control characters.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def today_utc() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _has_control(text: str, allow_newlines: bool) -> bool:
    for ch in text:
        if allow_newlines and ch in "\n\r\t":
            continue
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            return True
    return False


class Checker:
    """Validates fields one by one; `done()` raises UserInputError if any failed."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, code: str, field: str | None, message: str) -> None:
        self.errors.append(FieldError(code, (field,) if field else None, message))

    def done(self) -> None:
        if self.errors:
            raise UserInputError(self.errors)

    def line(self, field: str, value: str, *, label: str, max_length: int) -> str:
        """A required one-line text: trimmed, not blank, no line breaks or control characters."""
        value = value.strip()
        if not value:
            self.fail("BLANK", field, f"{label} can't be blank.")
        elif len(value) > max_length:
            self.fail("TOO_LONG", field, f"{label} is too long (at most {max_length} characters).")
        elif _has_control(value, allow_newlines=False):
            self.fail("INVALID", field, f"{label} can't contain line breaks or control characters.")
        return value

    def text(self, field: str, value: str, *, label: str, max_length: int) -> str:
        """An optional multi-line text: trimmed, at most `max_length` characters."""
        value = value.strip()
        if len(value) > max_length:
            self.fail("TOO_LONG", field, f"{label} is too long (at most {max_length} characters).")
        elif _has_control(value, allow_newlines=True):
            self.fail("INVALID", field, f"{label} can't contain control characters.")
        return value

    def required_text(self, field: str, value: str, *, label: str, max_length: int) -> str:
        value = self.text(field, value, label=label, max_length=max_length)
        if not value and not any(e.field == (field,) for e in self.errors):
            self.fail("BLANK", field, f"{label} can't be blank.")
        return value

    def future_date(
        self, field: str, value: dt.date, *, label: str, today: dt.date | None = None
    ) -> dt.date:
        """A date from `today` on (the date in the project's time zone; UTC if not given)."""
        if value < (today or today_utc()):
            self.fail("IN_THE_PAST", field, f"{label} can't be in the past.")
        return value

    def email(self, field: str, value: str) -> str:
        value = value.strip().lower()
        if not value:
            self.fail("BLANK", field, "E-mail can't be blank.")
        elif len(value) > 254:
            self.fail("TOO_LONG", field, "E-mail is too long (at most 254 characters).")
        elif not _EMAIL.match(value) or _has_control(value, allow_newlines=False):
            self.fail("INVALID", field, "E-mail is not a valid address.")
        return value

    def password(self, field: str, value: str) -> str:
        if not value.strip():
            self.fail("BLANK", field, "Password can't be blank.")
        elif len(value) < 8:
            self.fail("TOO_SHORT", field, "Password is too short (at least 8 characters).")
        elif len(value) > 1024:
            self.fail("TOO_LONG", field, "Password is too long (at most 1024 characters).")
        return value
