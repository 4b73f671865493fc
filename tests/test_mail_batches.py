"""Batched and daily milestone e-mails, and OFF, end to end: real HTTP, a real SMTP server,
the server's own worker code; time shortened through the settings the worker reads.

Every "nothing was sent" is checked after a control that was sent by the same worker.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import zoneinfo
from email.message import EmailMessage

from infra.mail_worker import running_worker
from models import PendingNotice
from server import mail_worker
from tests.support import Api, RunningServer, eventually, make_team, pk
from tests.support_mail import Sink, all_sent, rows_to, smtp_server, worker_settings
from tests.support_prefs import add, chat_kinds, complete, delete, edit, update_settings


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


async def test_a_batch_tells_the_net_change_of_each_milestone_once(
    api: Api, server: RunningServer
) -> None:
    team = await make_team(api)
    kept = await add(api, team.freelancer, team.project_id, "Design")
    ticked = await add(api, team.freelancer, team.project_id, "Review")
    gone = await add(api, team.freelancer, team.project_id, "Old plan")
    assert (await update_settings(api, team.client, milestoneChanges="BATCHED"))["errors"] == []
    chat_before = await chat_kinds(api, team.client, team.project_id)

    sink = Sink()
    with smtp_server(sink) as controller:
        settings = worker_settings(
            server, controller.port, mail_batch_quiet_seconds=1.0, mail_batch_max_seconds=60
        )
        async with running_worker(mail_worker(settings)):
            # The three e-mails sent at once, before the client chose BATCHED.
            await eventually(lambda: all_sent(team.client.email, 3))
            await edit(api, team.freelancer, kept, title="Design v2")
            await edit(api, team.freelancer, kept, title="Design v3", dueDate="2031-04-01")
            await complete(api, team.freelancer, ticked, True)
            await complete(api, team.freelancer, ticked, False)  # on balance: nothing
            brief = await add(api, team.freelancer, team.project_id, "Spike")
            await delete(api, team.freelancer, brief)  # added, then deleted: nothing
            await add(api, team.freelancer, team.project_id, "Launch")
            await delete(api, team.freelancer, gone)
            await eventually(lambda: all_sent(team.client.email, 4))
            await asyncio.sleep(2 * settings.mail_batch_quiet_seconds)

    batches = [m for m in sink.to(team.client.email) if "milestone change" in m["Subject"]]
    assert [m["Subject"] for m in batches] == ["3 milestone changes: “Data pipeline audit”"]
    text = text_of(batches[0])
    assert (
        "“Data pipeline audit”\n"
        "- Changed: Design v3\n"
        "    Title: Design → Design v3\n"
        "    Due date: 2031-03-01 → 2031-04-01\n"
        "- Added: Launch, due 2031-03-01\n"
        "- Deleted: Old plan\n"
    ) in text
    assert "Review" not in text and "Spike" not in text
    assert len(await rows_to(team.client.email)) == 4
    assert not await PendingNotice.filter(recipient_id=pk(team.client.id)).exists()
    # The chat is unaffected: one event per change, as always.
    chat_after = await chat_kinds(api, team.client, team.project_id)
    assert chat_after[len(chat_before) :] == [
        "MILESTONE_EDITED",
        "MILESTONE_EDITED",
        "MILESTONE_COMPLETED",
        "MILESTONE_REOPENED",
        "MILESTONE_ADDED",
        "MILESTONE_DELETED",
        "MILESTONE_ADDED",
        "MILESTONE_DELETED",
    ]


async def test_a_batch_goes_out_when_its_first_change_is_old_enough_however_busy(
    api: Api, server: RunningServer
) -> None:
    team = await make_team(api)
    assert (await update_settings(api, team.client, milestoneChanges="BATCHED"))["errors"] == []
    sink = Sink()
    with smtp_server(sink) as controller:
        settings = worker_settings(
            server, controller.port, mail_batch_quiet_seconds=1.0, mail_batch_max_seconds=1.5
        )
        async with running_worker(mail_worker(settings)):
            started = time.monotonic()
            titles = []
            # A change every 0.3 s: never a quiet second, so only the cap sends.
            while time.monotonic() - started < 3.5:
                titles.append(f"Step {len(titles)}")
                await add(api, team.freelancer, team.project_id, titles[-1])
                await asyncio.sleep(0.3)
            first_batch_during_the_changes = bool(sink.to(team.client.email))
            await eventually(lambda: _all_told(sink, team.client.email, titles), within=10)
    assert first_batch_during_the_changes
    told = [text_of(m) for m in sink.to(team.client.email)]
    assert len(told) >= 2
    # Each change told once, in one batch only.
    for title in titles:
        assert sum(f"- Added: {title}," in t for t in told) == 1, title


async def _all_told(sink: Sink, address: str, titles: list[str]) -> bool:
    told = "".join(text_of(m) for m in sink.to(address))
    return all(f"- Added: {title}," in told for title in titles)


def digest_time_soon(zone: str, seconds: float) -> tuple[dt.time, dt.datetime]:
    """A time of day `seconds` from now in `zone`, and that moment."""
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    local = moment.astimezone(zoneinfo.ZoneInfo(zone)).replace(microsecond=0)
    return local.time(), local


async def test_a_daily_digest_at_the_hour_of_the_users_zone_only_when_something_changed(
    api: Api, server: RunningServer
) -> None:
    tokyo, new_york, idle = [await make_team(api) for _ in range(3)]
    teams = {"Asia/Tokyo": tokyo, "America/New_York": new_york}
    for zone, team in [*teams.items(), ("Asia/Tokyo", idle)]:
        changed = await update_settings(api, team.client, milestoneChanges="DAILY", timeZone=zone)
        assert changed["errors"] == []
    for team in (tokyo, new_york):
        await add(api, team.freelancer, team.project_id, "Design")
        kept = await add(api, team.freelancer, team.project_id, "Build")
        await edit(api, team.freelancer, kept, title="Build it")
    # The idle client's project changed and changed back: a digest would tell nothing.
    brief = await add(api, idle.freelancer, idle.project_id, "Spike")
    await delete(api, idle.freelancer, brief)

    # Tokyo's digest time is two seconds away; New York's is that time of day there,
    # thirteen or fourteen hours later.
    at, moment = digest_time_soon("Asia/Tokyo", 2.0)
    sink = Sink()
    with smtp_server(sink) as controller:
        settings = worker_settings(server, controller.port, daily_digest_time=at)
        async with running_worker(mail_worker(settings)):
            await eventually(lambda: all_sent(tokyo.client.email, 1))
            arrived = dt.datetime.now(dt.UTC)
            # The idle client's notices were taken in the same pass, the other's are waiting.
            await eventually(lambda: _held_by(idle.client.id, 0))
            assert await _held_by(new_york.client.id, 3)

    assert arrived >= moment
    [digest] = sink.to(tokyo.client.email)
    assert digest["Subject"].startswith("Daily digest for ")
    assert digest["Subject"].endswith(": 2 milestone changes")
    assert "- Added: Design, due 2031-03-01\n- Added: Build it, due 2031-03-01\n" in text_of(digest)
    assert sink.to(new_york.client.email) == []
    assert sink.to(idle.client.email) == [] and await rows_to(idle.client.email) == []


async def _held_by(user_id: str, count: int) -> bool:
    return await PendingNotice.filter(recipient_id=pk(user_id)).count() == count


async def test_off_sends_nothing_where_immediate_sent_an_email(
    api: Api, server: RunningServer
) -> None:
    team = await make_team(api)
    sink = Sink()
    with smtp_server(sink) as controller:
        async with running_worker(mail_worker(worker_settings(server, controller.port))):
            await add(api, team.freelancer, team.project_id, "Design")
            await eventually(lambda: all_sent(team.client.email, 1))  # IMMEDIATE: sent
            off = await update_settings(api, team.client, milestoneChanges="OFF")
            assert off["settings"]["milestoneChanges"] == "OFF"
            milestone = await add(api, team.freelancer, team.project_id, "Build")
            await edit(api, team.freelancer, milestone, title="Build it")
            await complete(api, team.freelancer, milestone, True)
            await delete(api, team.freelancer, milestone)
            # The control, after those changes: another project's client gets its e-mail.
            control = await make_team(api)
            await add(api, control.freelancer, control.project_id, "Design")
            await eventually(lambda: all_sent(control.client.email, 1))
    assert len(sink.to(team.client.email)) == 1
    assert len(await rows_to(team.client.email)) == 1
    assert not await PendingNotice.filter(recipient_id=pk(team.client.id)).exists()
    assert (await chat_kinds(api, team.client, team.project_id))[-4:] == [
        "MILESTONE_ADDED",
        "MILESTONE_EDITED",
        "MILESTONE_COMPLETED",
        "MILESTONE_DELETED",
    ]
