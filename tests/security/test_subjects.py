"""A milestone title cannot shape the e-mail Subject: the reader sees the text as typed.

Probed through the API and a real SMTP server (aiosmtpd) only; how the message is built is
unit-tested in tests/test_unit_subjects.py.

Titles that contain RFC 2047 encoded-word lookalikes (`=?utf-8?b?...?=`) would otherwise be
decoded by the reader's mail client into text the user never typed.
"""

from __future__ import annotations

import dataclasses
import email
from email.policy import default
from pathlib import Path
from typing import Any

from infra.mail_worker import running_worker
from server import mail_worker
from tests.support import Api, RunningServer, eventually, future, make_team
from tests.support_mail import (
    Sink,
    all_sent,
    drain_backlog,
    rows_to,
    smtp_server,
    worker_settings,
)

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


class RawSink(Sink):
    """A Sink that also keeps each message's bytes as they came over SMTP."""

    def __init__(self) -> None:
        super().__init__()
        self.raw: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.raw.append(envelope.original_content)
        return await super().handle_DATA(server, session, envelope)


async def test_every_subject_reads_as_the_title_was_typed(api: Api, server: RunningServer) -> None:
    await drain_backlog(server)
    team = await make_team(api)
    # As many encoded-word lookalikes as a title may hold (at most 120 characters).
    longest = "Long " + "=?utf-8?b?SGk=?= " * 6 + "end"
    titles = [t for t in HOSTILE + ORDINARY if len(t) <= 120] + [longest]
    for title in titles:
        added = await api.add_milestone(team.freelancer, team.project_id, title, future(7))
        assert added["errors"] == [] and added["milestone"]["title"] == title
    sink = RawSink()
    with smtp_server(sink) as controller:
        async with running_worker(mail_worker(worker_settings(server, controller.port))):
            await eventually(lambda: all_sent(team.client.email, len(titles)))
    read = []
    for data in sink.raw:
        assert data.isascii()
        head = data.split(b"\r\n\r\n")[0].split(b"\r\n")
        assert all(len(line) <= 78 for line in head), head
        message = email.message_from_bytes(data, policy=default)
        if message["To"].addresses[0].addr_spec == team.client.email:
            assert message["Bcc"] is None
            read.append(str(message["Subject"]))
    assert sorted(read) == sorted(f"Milestone added: “{title}”" for title in titles)


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
