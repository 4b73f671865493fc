"""Without SMTP_HOST, e-mails are .eml files under MAIL_DIR; and headers are built safely."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
from email.policy import default
from pathlib import Path

from infra.mail_worker import running_worker
from mailers.transport import build_message
from models import OutboxEmail
from server import mail_worker
from tests.support import Api, RunningServer, eventually, future, make_team
from tests.support_mail import all_sent, rows_to, worker_settings


def read_folder(folder: Path) -> dict[str, bytes]:
    """Every file in `folder` by name, in name order."""
    return {f.name: f.read_bytes() for f in sorted(folder.iterdir())}


async def test_file_backend_writes_one_readable_eml_per_email(
    api: Api, server: RunningServer, tmp_path: Path
) -> None:
    team = await make_team(api)
    for title in ("Design", "Build"):
        added = await api.add_milestone(team.freelancer, team.project_id, title, future(7))
        assert added["errors"] == []
    settings = dataclasses.replace(worker_settings(server, 0), smtp_host="", mail_dir=tmp_path)
    async with running_worker(mail_worker(settings)):
        await eventually(lambda: all_sent(team.client.email, 2))
        await eventually(lambda: all_sent(team.freelancer.email, 1))

    files = read_folder(tmp_path)
    assert all(name.endswith(".eml") for name in files)  # no half-written leftovers
    rows = await rows_to(team.client.email) + await rows_to(team.freelancer.email)
    by_name = {f"{r.id:08d}-{r.kind}.eml": r for r in rows}
    assert set(by_name) <= set(files)
    # Names sort like the e-mails were queued.
    mine = [name for name in files if name in by_name]
    assert mine == sorted(by_name, key=lambda name: by_name[name].id)

    for name, row in by_name.items():
        message = email.message_from_bytes(files[name], policy=default)
        assert message["Message-ID"] == row.message_id
        assert message["To"].addresses[0].addr_spec == row.to_address
        assert message["Subject"] == row.subject
        assert message["Auto-Submitted"] == "auto-generated"
        assert message.get_content_type() == "multipart/alternative"
        text, html = message.get_body(("plain",)), message.get_body(("html",))
        assert text is not None and text.get_content() == row.text_body
        assert html is not None and html.get_content() == row.html_body
    subjects = {r.subject for r in rows}
    assert subjects == {
        "Milestones unlocked: “Data pipeline audit”",
        "Milestone added: “Design”",
        "Milestone added: “Build”",
    }


def test_headers_cannot_be_injected_and_utf8_subjects_are_encoded() -> None:
    row = OutboxEmail(
        id=7,
        message_id="<abc@milestones.invalid>",
        kind="milestone_added",
        to_address="zoe@example.com",
        to_name="Zoë\r\nBcc: eve@example.com",
        subject="Milestone added: “Café”\r\nBcc: eve@example.com",
        text_body="Hello\n",
        html_body="<p>Hello</p>\n",
        created_at=dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    )
    data = build_message(row, "Milestones <no-reply@milestones.invalid>").as_bytes()
    assert data.isascii()  # RFC 2047 encoded words, quoted-printable bodies
    parsed = email.message_from_bytes(data, policy=default)
    assert parsed["Bcc"] is None
    assert "eve@example.com" not in [a.addr_spec for a in parsed["To"].addresses]
    assert parsed["Subject"] == "Milestone added: “Café” Bcc: eve@example.com"
    assert parsed["To"].addresses[0].display_name == "Zoë Bcc: eve@example.com"
    assert parsed["Date"].datetime == row.created_at
    assert parsed["Message-ID"] == "<abc@milestones.invalid>"
