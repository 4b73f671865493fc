"""The freelancer's e-mails about the client's word on their work, received by a real SMTP
server: accepted (by the client, or automatically), sent back with the reason quoted and
escaped; with the unsubscribe link where PUBLIC_URL is set; following the freelancer's
notification settings like every milestone e-mail (OFF: none; BATCHED: the net change).

Every "nothing was sent" follows a control the same worker did send.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from email.message import EmailMessage
from pathlib import Path

from infra import clock
from infra.mail_worker import running_worker
from models import Milestone
from server import mail_worker
from services import acceptance
from tests.support import Account, Api, RunningServer, eventually, make_team, pk
from tests.support_acceptance import accept, send_back, ticked
from tests.support_deadlines import move_clock
from tests.support_mail import Sink, all_sent, mail_env, rows_to, smtp_server, worker_settings
from tests.support_prefs import chat_kinds, update_settings
from tests.support_processes import api_for, create_admin, make_team_with, server_process
from tests.test_unsubscribe import PUBLIC_URL, unsubscribe_link

REASON = 'Axis labels, please: <b>"units"</b> & a legend.\nSecond line.'


def parts(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()).replace("\r\n", "\n"), str(html.get_content())


async def _received(sink: Sink, account: Account, count: int) -> bool:
    return len(sink.to(account.email)) >= count


async def test_the_freelancer_is_told_with_a_link_to_unsubscribe(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'db.sqlite3'}"
    sink = Sink()
    with smtp_server(sink) as smtp:
        env = mail_env(smtp.port) | {"PUBLIC_URL": PUBLIC_URL}
        async with server_process(url, "", tmp_path, env=env) as base, api_for(base) as api:
            team = await make_team_with(api, await create_admin(api, url, tmp_path))
            back = await ticked(api, team, "Dashboards")
            assert (await send_back(api, team, back, REASON))["errors"] == []
            accepted = await ticked(api, team, "Feature store")
            assert (await accept(api, team, accepted))["errors"] == []
            # The unlock e-mail, then the two about the client's word.
            await eventually(lambda: _received(sink, team.freelancer, 3))
    _, changes, done = sink.to(team.freelancer.email)

    assert changes["Subject"] == "Changes requested: “Dashboards”"
    unsubscribe_link(changes)  # checks the header and the link in both parts
    text, html = parts(changes)
    assert f"{team.client.name} asked for changes to a milestone of" in text
    assert '> Axis labels, please: <b>"units"</b> & a legend.\n> Second line.\n' in text
    assert "Axis labels, please: &lt;b&gt;&quot;units&quot;&lt;/b&gt; &amp; a legend." in html
    assert "<b>" not in html

    assert done["Subject"] == "Milestone accepted: “Feature store”"
    unsubscribe_link(done)
    text, _ = parts(done)
    assert f"{team.client.name} accepted a milestone of “Data pipeline audit”." in text
    assert "can no longer be edited, unticked or deleted" in text
    # The client gave their word: they get no e-mail about it.
    assert not [m for m in sink.to(team.client.email) if "accepted" in m["Subject"].lower()]


async def test_automatic_acceptance_is_told_without_an_actor(
    api: Api, server: RunningServer
) -> None:
    team = await make_team(api)
    milestone_id = await ticked(api, team)
    milestone = await Milestone.get(id=pk(milestone_id))
    assert milestone.completed_at is not None
    due = milestone.completed_at + dt.timedelta(days=server.settings.milestone_auto_accept_days)
    try:
        # Before its moment the clock accepts nothing (and posts nothing) ...
        move_clock(due - dt.timedelta(minutes=1))
        _, still = await acceptance.accept_milestone(None, milestone)
        assert still.accepted_at is None
        kinds = await chat_kinds(api, team.client, team.project_id)
        # ... at it, the milestone is accepted, by no one.
        move_clock(due)
        _, done = await acceptance.accept_milestone(None, milestone)
    finally:
        clock.set_offset(0)
    assert done.accepted_at is not None and done.accepted_by_id is None
    assert await chat_kinds(api, team.client, team.project_id) == [*kinds, "MILESTONE_ACCEPTED"]
    data = await api.data(
        """query($id: ID!) { project(id: $id) { milestones { state acceptedBy { id } }
             chat(last: 1) { edges { node { kind body actor { id } } } } } }""",
        {"id": team.project_id},
        team.freelancer.token,
    )
    assert data["project"]["milestones"] == [{"state": "ACCEPTED", "acceptedBy": None}]
    [edge] = data["project"]["chat"]["edges"]
    assert edge["node"]["actor"] is None
    assert "accepted automatically" in edge["node"]["body"]
    [row] = [r for r in await rows_to(team.freelancer.email) if r.kind == "milestone_accepted"]
    assert "was accepted automatically: the client neither accepted it" in row.text_body


async def test_the_freelancers_settings_apply(api: Api, server: RunningServer) -> None:
    quiet, batched = await make_team(api), await make_team(api)
    first, later = await ticked(api, quiet, "First"), await ticked(api, quiet, "Later")
    sent_back, accepted = await ticked(api, batched, "Back"), await ticked(api, batched, "Done")
    settings = await update_settings(api, batched.freelancer, milestoneChanges="BATCHED")
    assert settings["errors"] == []
    sink = Sink()
    with smtp_server(sink) as controller:
        timing = {"mail_batch_quiet_seconds": 0.5, "mail_batch_max_seconds": 60}
        async with running_worker(mail_worker(worker_settings(server, controller.port, **timing))):
            await eventually(lambda: all_sent(quiet.freelancer.email, 1))  # the unlock
            # The control: IMMEDIATE (the default) sends at once.
            await accept(api, quiet, first)
            await eventually(lambda: all_sent(quiet.freelancer.email, 2))
            # OFF: the next acceptance posts to the chat, and e-mails no one.
            off = await update_settings(api, quiet.freelancer, milestoneChanges="OFF")
            assert off["errors"] == []
            await accept(api, quiet, later)
            # BATCHED: both of the client's words come as one e-mail, their net change.
            await send_back(api, batched, sent_back, "Labels, please.")
            await accept(api, batched, accepted)
            await eventually(lambda: all_sent(batched.freelancer.email, 2))
            await asyncio.sleep(1.0)  # passes enough to send anything else queued
    assert [m["Subject"] for m in sink.to(quiet.freelancer.email)][1:] == [
        "Milestone accepted: “First”"
    ]
    assert (await chat_kinds(api, quiet.client, quiet.project_id))[-2:] == [
        "MILESTONE_ACCEPTED",
        "MILESTONE_ACCEPTED",
    ]
    [batch] = sink.to(batched.freelancer.email)[1:]
    assert batch["Subject"] == "2 milestone changes: “Data pipeline audit”"
    text, _ = parts(batch)
    assert (
        "- Changed: Back\n"
        "    Status: completed → open\n"
        "    Changes requested: (empty) → Labels, please.\n"
        "- Changed: Done\n"
        "    Status: completed → accepted\n"
    ) in text
