"""services/validation.py `Checker`, without a server: what each rule accepts, cleans and refuses.

Each rule records a FieldError (code, field path, message) and returns the cleaned value;
`done()` raises them all at once. The end-to-end tests (test_milestones.py, test_projects.py,
test_accounts.py, test_chat.py) check that the mutations use these rules.
"""

from __future__ import annotations

import datetime as dt

import pytest

from services import validation
from services.errors import FieldError, UserInputError
from services.validation import Checker

TODAY = dt.date(2030, 5, 17)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validation, "today_utc", lambda: TODAY)


def codes(check: Checker) -> list[tuple[str, tuple[str, ...] | None]]:
    return [(e.code, e.field) for e in check.errors]


def test_line_is_trimmed_and_accepted() -> None:
    check = Checker()
    assert check.line("title", "  Schema review \t", label="Title", max_length=20) == (
        "Schema review"
    )
    assert check.errors == []
    check.done()  # nothing to raise


@pytest.mark.parametrize("value", ["", "   ", "\t \u00a0"])
def test_line_blank(value: str) -> None:
    check = Checker()
    assert check.line("title", value, label="Title", max_length=20) == ""
    assert check.errors == [FieldError("BLANK", ("title",), "Title can't be blank.")]


def test_line_length_counts_after_trimming() -> None:
    check = Checker()
    assert check.line("title", "  " + "x" * 20 + "  ", label="Title", max_length=20) == "x" * 20
    assert check.errors == []
    check.line("title", "x" * 21, label="Title", max_length=20)
    assert codes(check) == [("TOO_LONG", ("title",))]
    assert "at most 20 characters" in check.errors[0].message


@pytest.mark.parametrize(
    "value",
    [
        "two\nlines",
        "carriage\rreturn",
        "tab\there",
        "bell\x07",
        "nul\x00",
        "line\u2028separator",
        "paragraph\u2029separator",
        "zero\u200bwidth",  # a format character (Cf)
        "bidi\u202eoverride",
    ],
)
def test_line_refuses_line_breaks_and_control_characters(value: str) -> None:
    check = Checker()
    check.line("title", value, label="Title", max_length=120)
    assert codes(check) == [("INVALID", ("title",))]
    assert "control characters" in check.errors[0].message


def test_line_accepts_ordinary_unicode() -> None:
    check = Checker()
    assert check.line("name", "Zoë Ångström – 東京", label="Name", max_length=120)
    assert check.errors == []


def test_text_keeps_line_breaks_and_tabs_but_not_other_controls() -> None:
    check = Checker()
    body = "First line\r\n\tindented\nlast"
    assert check.text("description", f"\n {body} \n", label="Description", max_length=100) == body
    assert check.text("description", "", label="Description", max_length=100) == ""
    assert check.errors == []
    check.text("description", "escape\x1b[31m", label="Description", max_length=100)
    check.text("description", "line\u2028separator", label="Description", max_length=100)
    assert codes(check) == [("INVALID", ("description",))] * 2


def test_text_too_long() -> None:
    check = Checker()
    check.text("description", "d" * 11, label="Description", max_length=10)
    assert codes(check) == [("TOO_LONG", ("description",))]


def test_required_text_blank_or_too_long_never_both() -> None:
    check = Checker()
    assert check.required_text("body", "  hi  ", label="Message", max_length=5) == "hi"
    assert check.errors == []
    check.required_text("body", " \n ", label="Message", max_length=5)
    assert check.errors == [FieldError("BLANK", ("body",), "Message can't be blank.")]

    too_long = Checker()
    too_long.required_text("body", "x" * 6, label="Message", max_length=5)
    assert codes(too_long) == [("TOO_LONG", ("body",))]


def test_email_is_trimmed_and_lowercased() -> None:
    check = Checker()
    assert check.email("email", "  Ada.Lovelace@Example.COM ") == "ada.lovelace@example.com"
    assert check.errors == []


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "BLANK"),
        ("   ", "BLANK"),
        ("no-at-sign", "INVALID"),
        ("two@@example.com", "INVALID"),
        ("a@b@example.com", "INVALID"),
        ("nodot@example", "INVALID"),
        ("space in@example.com", "INVALID"),
        ("@example.com", "INVALID"),
        ("ada@", "INVALID"),
        ("ada@exa\u200bmple.com", "INVALID"),
        ("a,b@example.com", "INVALID"),
        ("a<b>@example.com", "INVALID"),
        ("ada@example.invalid", "INVALID"),
        ("a" * 243 + "@example.com", "TOO_LONG"),  # 255 characters
    ],
)
def test_email_refused(value: str, code: str) -> None:
    check = Checker()
    check.email("email", value)
    assert codes(check) == [(code, ("email",))]


def test_email_of_254_characters_is_accepted() -> None:
    check = Checker()
    address = "a" * 242 + "@example.com"
    assert len(address) == 254
    assert check.email("email", address) == address
    assert check.errors == []


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "BLANK"),
        ("        ", "BLANK"),
        ("short", "TOO_SHORT"),
        ("1234567", "TOO_SHORT"),
        ("p" * 1025, "TOO_LONG"),
        ("\u200b" * 8, "BLANK"),
        ("qwertyuiop", "INVALID"),
        ("  Football  ", "INVALID"),
    ],
)
def test_password_refused(value: str, code: str) -> None:
    check = Checker()
    check.password("password", value)
    assert codes(check) == [(code, ("password",))]


@pytest.mark.parametrize("value", ["q7#kz!2m", " spaced out ", "p" * 1024])
def test_password_accepted_as_typed(value: str) -> None:
    check = Checker()
    assert check.password("password", value) == value  # never trimmed
    assert check.errors == []


def test_dates_from_today_on_are_accepted() -> None:
    check = Checker()
    for day in (TODAY, TODAY + dt.timedelta(days=1), dt.date(2100, 1, 1)):
        assert check.future_date("dueDate", day, label="Due date") == day
    assert check.errors == []


def test_a_date_before_today_is_in_the_past() -> None:
    check = Checker()
    yesterday = TODAY - dt.timedelta(days=1)
    assert check.future_date("dueDate", yesterday, label="Due date") == yesterday
    assert check.errors == [
        FieldError("IN_THE_PAST", ("dueDate",), "Due date can't be in the past.")
    ]


def test_every_problem_is_collected_and_raised_at_once() -> None:
    check = Checker()
    check.line("title", " ", label="Title", max_length=120)
    check.text("description", "d" * 3, label="Description", max_length=2)
    check.future_date("dueDate", TODAY - dt.timedelta(days=30), label="Due date")
    check.email("email", "nobody")
    check.password("password", "short")
    check.line("name", "Fine", label="Name", max_length=120)  # a valid field adds nothing
    with pytest.raises(UserInputError) as raised:
        check.done()
    assert [(e.code, e.field) for e in raised.value.errors] == [
        ("BLANK", ("title",)),
        ("TOO_LONG", ("description",)),
        ("IN_THE_PAST", ("dueDate",)),
        ("INVALID", ("email",)),
        ("TOO_SHORT", ("password",)),
    ]
    assert all(e.message for e in raised.value.errors)
    assert "Title can't be blank." in str(raised.value)


def test_fail_without_a_field_has_no_path() -> None:
    check = Checker()
    check.fail("MILESTONES_LOCKED", None, "Locked.")
    assert check.errors == [FieldError("MILESTONES_LOCKED", None, "Locked.")]
    with pytest.raises(UserInputError):
        check.done()
