"""List-Unsubscribe as mail providers read it: the raw bytes of the message, not a decoded header.

With a realistic PUBLIC_URL the one-click link is longer than 78 columns. Gmail and Yahoo
read `List-Unsubscribe` and `List-Unsubscribe-Post` as raw header text: an RFC 2047
encoded-word (`=?utf-8?q?=3Chttps=3A//...`) there is no URL at all, and one-click unsubscribe
silently does not happen. The probe sends real e-mails through `python server.py` and reads
them as received: by an SMTP server (aiosmtpd), and as `.eml` files of the file transport.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from mailers.transport import build_message
from models import OutboxEmail
from tests.support import Account, eventually
from tests.support_mail import Sink, smtp_server
from tests.support_prefs import add
from tests.support_processes import api_for, create_admin, make_team_with, server_process

# Long enough, as real deployments are, that the header's value passes 78 columns.
PUBLIC_URL = "https://milestones.example-platform.com"


class RawSink(Sink):
    """Also keeps each message's bytes exactly as the SMTP server received them."""

    def __init__(self) -> None:
        super().__init__()
        self.raw: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.raw.append(bytes(envelope.original_content))
        return await super().handle_DATA(server, session, envelope)


def raw_headers(message: bytes) -> dict[str, str]:
    """The header fields of `message` as a provider reads them: unfolded, never decoded."""
    head = message.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    for line in head.split(b"\n"):
        assert len(line) <= 998, line  # RFC 5322's hard limit on a line
    unfolded = re.sub(rb"\n[ \t]", b" ", head).decode("ascii")
    fields: dict[str, str] = {}
    for line in unfolded.split("\n"):
        name, _, value = line.partition(":")
        fields[name.lower()] = value.strip()
    return fields


def assert_one_click(message: bytes) -> None:
    fields = raw_headers(message)
    value = fields["list-unsubscribe"]
    assert "=?" not in value, value
    assert re.fullmatch(rf"<{re.escape(PUBLIC_URL)}/unsubscribe/[A-Za-z0-9_-]+>", value), value
    assert len(f"List-Unsubscribe: {value}") > 78  # the case that used to be encoded
    assert fields["list-unsubscribe-post"] == "List-Unsubscribe=One-Click"


async def _queue_a_milestone_email(base: str, database_url: str, tmp: Path) -> Account:
    async with api_for(base) as api:
        admin = await create_admin(api, database_url, tmp)
        team = await make_team_with(api, admin)
        await add(api, team.freelancer, team.project_id, "Design")
        return team.client


@pytest.mark.parametrize("transport", ["smtp", "file"])
async def test_list_unsubscribe_goes_out_as_a_raw_url(tmp_path: Path, transport: str) -> None:
    database_url = f"sqlite://{tmp_path / 'db.sqlite3'}"
    sink = RawSink()
    env = {"PUBLIC_URL": PUBLIC_URL, "MAIL_WORKER": "1", "MAIL_POLL_SECONDS": "0.05"}
    with smtp_server(sink) as smtp:
        if transport == "smtp":
            env |= {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port)}
        async with server_process(database_url, "", tmp_path, env=env) as base:
            client = await _queue_a_milestone_email(base, database_url, tmp_path)
            mail_dir = tmp_path / "mail"

            async def delivered() -> bool:
                if transport == "smtp":
                    return bool(sink.to(client.email))
                return any(mail_dir.glob("*-milestone_added.eml"))

            await eventually(delivered)
    if transport == "smtp":
        [message] = [raw for raw in sink.raw if client.email.encode() in raw]
    else:
        [path] = mail_dir.glob("*-milestone_added.eml")
        message = path.read_bytes()
    assert_one_click(message)


def test_an_international_host_goes_out_in_ascii_and_line_breaks_cannot_add_headers() -> None:
    row = OutboxEmail(
        id=8,
        message_id="<intl@milestones.invalid>",
        kind="milestone_added",
        to_address="zoe@example.com",
        to_name="Zoë",
        subject="Milestone added",
        text_body="Hello\n",
        html_body="<p>Hello</p>\n",
        created_at=dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        list_unsubscribe="https://bücher.example/unsubscribe/abc\r\nBcc: eve@example.com",
    )
    data = build_message(row, "Milestones <no-reply@milestones.invalid>").as_bytes()
    assert data.isascii()
    fields = raw_headers(data)
    assert fields["list-unsubscribe"] == (
        "<https://xn--bcher-kva.example/unsubscribe/abcBcc:%20eve@example.com>"
    )
    assert "bcc" not in fields
