"""Input rules shared by the mutations, each returning the cleaned value or recording an error.

A `Checker` collects every problem of one input, so a client learns them all at once.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

from services.common_passwords import is_common
from services.errors import FieldError, UserInputError

# Characters that draw nothing: fillers that Unicode counts as letters, and the braille blank.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


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
        """An address mail can be sent to, normalized (email-validator), then lower-cased:
        addresses are unique whatever their case."""
        value = value.strip()
        if not value:
            self.fail("BLANK", field, "E-mail can't be blank.")
        elif len(value) > 254:
            self.fail("TOO_LONG", field, "E-mail is too long (at most 254 characters).")
        else:
            value, refusal = _mailable(value)
            if refusal:
                # The library's messages are written for the person typing the address.
                self.fail("INVALID", field, f"E-mail is not a valid address: {refusal}")
        return value.lower()

    def password(self, field: str, value: str) -> str:
        if not value.strip():
            self.fail("BLANK", field, "Password can't be blank.")
        elif _invisible(value):
            self.fail(
                "BLANK", field, "Password can't be made only of spaces or invisible characters."
            )
        elif len(value) < 8:
            self.fail("TOO_SHORT", field, "Password is too short (at least 8 characters).")
        elif len(value) > 1024:
            self.fail("TOO_LONG", field, "Password is too long (at most 1024 characters).")
        elif is_common(value):
            self.fail(
                "INVALID",
                field,
                "Password is one of the most common passwords, which are guessed first: "
                "choose another.",
            )
        return value


def _mailable(address: str) -> tuple[str, str]:
    """`address` normalized and '', or as it is and why this server could never mail it.

    No DNS look-up (a sign-up must not wait on, or fail with, the resolver). Local parts
    must be ASCII: the transport sends without SMTPUTF8. Special-use domains (.invalid,
    .localhost, .onion, ...) are refused, except RFC 6761's .test, which test suites and the
    benchmarks use as they use example.com.
    """
    # Imported at the first address checked, not by every process at start-up (a twentieth
    # of a second each, mostly for processes that check none).
    from email_validator import EmailNotValidError, validate_email

    try:
        checked = validate_email(
            address, check_deliverability=False, allow_smtputf8=False, test_environment=True
        )
    except EmailNotValidError as e:
        return address, str(e)
    return str(checked.normalized), ""


def _invisible(text: str) -> bool:
    """Whether `text` has no visible character: only whitespace, format and control
    characters (zero-width spaces and joiners among them), and blank fillers."""
    return all(
        ch.isspace() or ch in _BLANK_LETTERS or unicodedata.category(ch) in ("Cc", "Cf")
        for ch in text
    )
