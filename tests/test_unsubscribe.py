"""One-click unsubscribe (RFC 8058): the headers, POST turning mail off, GET changing
nothing, tampered tokens refused; and no header at all without PUBLIC_URL.

A `python server.py` process with PUBLIC_URL and its own delivery worker, a real SMTP
server. PUBLIC_URL names the public https address; the tests send the link's path to the
process's local address, as a reverse proxy would.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from infra.mail_worker import running_worker
from server import mail_worker
from tests.support import Account, Api, RunningServer, eventually, make_team
from tests.support_mail import Sink, all_sent, mail_env, smtp_server, worker_settings
from tests.support_prefs import add, my_settings
from tests.support_processes import api_for, create_admin, make_team_with, server_process

PUBLIC_URL = "https://milestones.example.com"


def unsubscribe_link(message: EmailMessage) -> str:
    """The one URL of List-Unsubscribe, checked as RFC 8058 asks of one-click senders."""
    header = str(message["List-Unsubscribe"])
    links = re.findall(r"<([^>]*)>", header)
    assert len(links) == 1 and header.strip() == f"<{links[0]}>", header
    assert links[0].startswith(f"{PUBLIC_URL}/unsubscribe/"), header
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and links[0] in text.get_content()
    assert html is not None and f'href="{links[0]}"' in html.get_content()
    return str(links[0])


def local(base: str, link: str) -> str:
    return base + urlsplit(link).path


async def test_one_click_unsubscribe(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'db.sqlite3'}"
    sink = Sink()
    with smtp_server(sink) as smtp:
        env = mail_env(smtp.port) | {"PUBLIC_URL": PUBLIC_URL}
        async with (
            server_process(url, "", tmp_path, env=env) as base,
            api_for(base) as api,
            httpx.AsyncClient(timeout=10) as http,
        ):
            admin = await create_admin(api, url, tmp_path)
            team = await make_team_with(api, admin)
            await add(api, team.freelancer, team.project_id, "Design")
            await eventually(lambda: _received(sink, team.client, 1))
            [first] = sink.to(team.client.email)
            link = unsubscribe_link(first)
            # The unlock e-mail is the platform's: no unsubscribe header.
            [unlock] = sink.to(team.freelancer.email)
            assert unlock["List-Unsubscribe"] is None

            # GET shows a page with a button, and changes nothing.
            page = await http.get(local(base, link))
            assert page.status_code == 200
            assert '<form method="post">' in page.text and "Unsubscribe</button>" in page.text
            assert f'href="{PUBLIC_URL}/"' in page.text
            assert (await my_settings(api, team.client))["milestoneChanges"] == "IMMEDIATE"
            await add(api, team.freelancer, team.project_id, "Build")
            await eventually(lambda: _received(sink, team.client, 2))

            # A tampered token: refused, nothing changed.
            token = urlsplit(link).path.rsplit("/", 1)[1]
            tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
            for forged in (tampered, token[:-3], "nonsense", "x" * 400):
                path = f"{base}/unsubscribe/{forged}"
                assert (await http.get(path)).status_code == 404
                assert (await http.post(path, data=ONE_CLICK)).status_code == 404
            assert (await my_settings(api, team.client))["milestoneChanges"] == "IMMEDIATE"

            # POST, as a mail provider sends it: off at once.
            done = await http.post(local(base, link), data=ONE_CLICK)
            assert done.status_code == 200 and "no longer receive" in done.text
            assert (await my_settings(api, team.client))["milestoneChanges"] == "OFF"
            await add(api, team.freelancer, team.project_id, "Launch")
            # The control, queued after that change: the same kind of e-mail to another client.
            other = await make_team_with(api, admin)
            await add(api, other.freelancer, other.project_id, "Design")
            await eventually(lambda: _received(sink, other.client, 1))
    assert [m["Subject"] for m in sink.to(team.client.email)] == [
        "Milestone added: “Design”",
        "Milestone added: “Build”",
    ]


ONE_CLICK = {"List-Unsubscribe": "One-Click"}


async def _received(sink: Sink, account: Account, count: int) -> bool:
    return len(sink.to(account.email)) >= count


async def test_without_public_url_no_header_and_no_link(api: Api, server: RunningServer) -> None:
    assert server.settings.public_url == ""
    team = await make_team(api)
    await add(api, team.freelancer, team.project_id, "Design")
    sink = Sink()
    with smtp_server(sink) as controller:
        async with running_worker(mail_worker(worker_settings(server, controller.port))):
            await eventually(lambda: all_sent(team.client.email, 1))
    [message] = sink.to(team.client.email)
    assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None
    text = message.get_body(("plain",))
    assert text is not None and "unsubscribe" not in text.get_content().lower()
