"""A milestone title cannot shape the e-mail Subject: the reader sees the text as typed.

Titles that contain RFC 2047 encoded-word lookalikes (`=?utf-8?b?...?=`) would otherwise be
decoded by the reader's mail client into text the user never typed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
from email.policy import default
from pathlib import Path

import pytest

from infra.mail_worker import running_worker
from mailers.transport import build_message
from models import OutboxEmail
from server import mail_worker
from tests.support import Api, RunningServer, eventually, future, make_team
from tests.support_mail import all_sent, rows_to, worker_settings

HOSTILE = [
    "Audit =?utf-8?b?QmNjOiBldmVAZXhhbXBsZS5jb20=?=",  # decodes to "Bcc: eve@example.com"
    "=?utf-8?q?Approved_by_the_client?=",
    "Café =?iso-8859-1?q?caf=E9?= and =?utf-8?b?SGk=?= =?utf-8?b?SGk=?=",
    "=?utf-8?b?not base64?= =? ?= =?=",
    "Long " + "=?utf-8?b?SGk=?= " * 20 + "end",
    "Ünïcödé “quotes” =?UTF-8?B?8J+YgA==?= 😀",
]
# Titles without the sequence, which keep the ordinary, readable encoding.
ORDINARY = ["Feature audit", "Café “crème”", "50% done (phase 2/3): ok?"]


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


async def test_a_hostile_title_reaches_the_eml_file_as_typed(
    api: Api, server: RunningServer, tmp_path: Path
) -> None:
    team = await make_team(api)
    title = HOSTILE[0]
    added = await api.add_milestone(team.freelancer, team.project_id, title, future(7))
    assert added["errors"] == [] and added["milestone"]["title"] == title
    settings = dataclasses.replace(worker_settings(server, 0), smtp_host="", mail_dir=tmp_path)
    async with running_worker(mail_worker(settings)):
        await eventually(lambda: all_sent(team.client.email, 1))
    [row] = [r for r in await rows_to(team.client.email) if r.kind == "milestone_added"]
    [path] = [p for p in settings.mail_dir.iterdir() if p.name.startswith(f"{row.id:08d}-")]
    parsed = email.message_from_bytes(path.read_bytes(), policy=default)
    assert parsed["Subject"] == row.subject == f"Milestone added: “{title}”"
    assert parsed["Bcc"] is None
