"""mailers/transport.py `build_message`, without a server: a Subject reads as it was typed.

Titles that contain RFC 2047 encoded-word lookalikes (`=?utf-8?b?...?=`) would otherwise be
decoded by the reader's mail client into text the user never typed. The probe through the
API and SMTP is tests/security/test_subjects.py.
"""

from __future__ import annotations

import datetime as dt
import email
from email.policy import default

import pytest

from mailers.transport import build_message
from models import OutboxEmail
from tests.security.test_subjects import HOSTILE, ORDINARY


def subject_as_read(subject: str) -> str:
    """The Subject a reader's mail client shows for a message built with `subject`."""
    row = OutboxEmail(
        id=1,
        message_id="<subject@milestones.invalid>",
        kind="milestone_added",
        to_address="carl@example.com",
        to_name="Carl",
        subject=subject,
        text_body="Hello\n",
        html_body="<p>Hello</p>\n",
        created_at=dt.datetime(2030, 1, 2, tzinfo=dt.UTC),
    )
    data = build_message(row, "Milestones <no-reply@milestones.invalid>").as_bytes()
    assert data.isascii()
    assert all(len(line) <= 78 for line in data.split(b"\r\n\r\n")[0].split(b"\r\n"))
    return str(email.message_from_bytes(data, policy=default)["Subject"])


@pytest.mark.parametrize("title", HOSTILE + ORDINARY)
def test_the_subject_reads_as_the_title_was_typed(title: str) -> None:
    subject = f"Milestone added: “{title}”"
    assert subject_as_read(subject) == subject
