"""Unsubscribe links: dead once the person turned that e-mail back on, expired after
LINK_DAYS, and never written to the access log.

A link sits in every e-mail of its kind, in inboxes, archives and forwarded mail: whoever
holds one can turn that e-mail off without a login (RFC 8058). It used to do so forever,
also after the person had turned the e-mails back on, and the access log kept every token
used. `python server.py` with PUBLIC_URL, its own delivery worker and a real SMTP server; its
clock (CLOCK_OFFSET_FILE) is moved to age a link.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from services.mail_preferences import LINK_DAYS
from tests.security.test_logs import the_log
from tests.support import Account, Api, Team, eventually
from tests.support_mail import Sink, smtp_server
from tests.support_prefs import add, my_settings, update_settings
from tests.support_processes import api_for, create_admin, make_team_with, server_process
from tests.test_unsubscribe import ONE_CLICK, PUBLIC_URL, unsubscribe_link

DAY = 86_400


@dataclass
class Setup:
    base: str
    api: Api
    http: httpx.AsyncClient
    sink: Sink
    team: Team
    clock: Path

    async def link(self, count: int) -> str:
        """The unsubscribe link of the `count`th e-mail to the client, once it arrived."""

        async def arrived() -> bool:
            return len(self.sink.to(self.team.client.email)) >= count

        await eventually(arrived)
        return unsubscribe_link(self.sink.to(self.team.client.email)[count - 1])

    def local(self, link: str) -> str:
        return self.base + urlsplit(link).path

    async def mode(self, account: Account) -> str:
        return str((await my_settings(self.api, account))["milestoneChanges"])


@contextlib.asynccontextmanager
async def serving(tmp_path: Path, database_url: str = "") -> AsyncIterator[Setup]:
    database_url = database_url or f"sqlite://{tmp_path / 'db.sqlite3'}"
    sink, clock = Sink(), tmp_path / "clock-offset"
    clock.write_text("0")
    with smtp_server(sink) as smtp:
        env = {
            "PUBLIC_URL": PUBLIC_URL,
            "MAIL_WORKER": "1",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp.port),
            "MAIL_POLL_SECONDS": "0.05",
            "CLOCK_OFFSET_FILE": str(clock),
        }
        async with (
            server_process(database_url, "", tmp_path, env=env) as base,
            api_for(base) as api,
            httpx.AsyncClient(timeout=10) as http,
        ):
            team = await make_team_with(api, await create_admin(api, database_url, tmp_path))
            yield Setup(base, api, http, sink, team, clock)


async def test_a_link_from_before_a_resubscription_changes_nothing(tmp_path: Path) -> None:
    await _resubscription(tmp_path, "")


async def test_a_link_from_before_a_resubscription_changes_nothing_on_postgres(
    tmp_path: Path, postgres_url: str
) -> None:
    await _resubscription(tmp_path, postgres_url)


async def _resubscription(tmp_path: Path, database_url: str) -> None:
    async with serving(tmp_path, database_url) as s:
        await add(s.api, s.team.freelancer, s.team.project_id, "Design")
        old = await s.link(1)
        assert (await s.http.post(s.local(old), data=ONE_CLICK)).status_code == 200
        assert await s.mode(s.team.client) == "OFF"
        # The person turns the e-mails back on.
        done = await update_settings(s.api, s.team.client, milestoneChanges="IMMEDIATE")
        assert done["errors"] == []

        # Whoever kept the old e-mail (or was forwarded it) can no longer turn them off.
        for method in ("GET", "POST"):
            page = await s.http.request(method, s.local(old), data=ONE_CLICK)
            assert page.status_code == 404, (method, page.text)
            assert "out of date" in page.text
        assert await s.mode(s.team.client) == "IMMEDIATE"

        # The next e-mail's link works.
        await add(s.api, s.team.freelancer, s.team.project_id, "Build")
        new = await s.link(2)
        assert new != old
        assert (await s.http.post(s.local(new), data=ONE_CLICK)).status_code == 200
        assert await s.mode(s.team.client) == "OFF"


async def test_a_link_expires_after_link_days(tmp_path: Path) -> None:
    assert LINK_DAYS >= 60  # providers may POST long after the e-mail was sent
    async with serving(tmp_path) as s:
        await add(s.api, s.team.freelancer, s.team.project_id, "Design")
        link = await s.link(1)
        s.clock.write_text(str((LINK_DAYS - 1) * DAY))
        page = await s.http.get(s.local(link))
        assert page.status_code == 200 and "Unsubscribe</button>" in page.text

        s.clock.write_text(str((LINK_DAYS + 1) * DAY))
        for method in ("GET", "POST"):
            page = await s.http.request(method, s.local(link), data=ONE_CLICK)
            assert page.status_code == 404, (method, page.text)
            assert "out of date" in page.text
        assert await s.mode(s.team.client) == "IMMEDIATE"


async def test_the_access_log_hides_unsubscribe_tokens(tmp_path: Path) -> None:
    async with serving(tmp_path) as s:
        await add(s.api, s.team.freelancer, s.team.project_id, "Design")
        link = await s.link(1)
        token = urlsplit(link).path.rsplit("/", 1)[1]
        assert (await s.http.get(s.local(link))).status_code == 200
        assert (await s.http.post(s.local(link), data=ONE_CLICK)).status_code == 200
    log = the_log(tmp_path)
    assert '"GET /unsubscribe/*** HTTP/1.1" 200' in log, log
    assert '"POST /unsubscribe/*** HTTP/1.1" 200' in log, log
    assert token not in log and token[:20] not in log
