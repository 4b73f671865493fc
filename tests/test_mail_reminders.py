"""The milestone reminder: once per project after the delay, none when a milestone exists.

Each "no reminder" case runs next to a project that does get one, with the same worker,
so the reminder pass is known to have run when the absence is checked.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from infra.mail_worker import running_worker
from models import OutboxEmail, Project
from schema.ids import pk_of
from server import mail_worker
from tests.support import Api, RunningServer, eventually, make_team
from tests.support_mail import Sink, all_sent, smtp_server, worker_settings
from tests.support_prefs import update_settings

DELAY = 0.2


async def reminders_of(project_id: str) -> list[OutboxEmail]:
    return await OutboxEmail.filter(
        project_id=pk_of(project_id, "Project"), kind="milestone_reminder"
    ).order_by("id")


async def test_reminder_once_after_the_delay_and_never_again(
    api: Api, server: RunningServer
) -> None:
    idle = await make_team(api)
    busy = await make_team(api)
    assert (await api.add_milestone(busy.freelancer, busy.project_id, "Plan"))["errors"] == []
    await asyncio.sleep(DELAY)  # both unlocks are now older than the delay

    sink = Sink()
    with smtp_server(sink) as controller:
        settings = worker_settings(server, controller.port, milestone_reminder_delay_seconds=DELAY)
        # Two workers at once, as with two processes: only one can claim the reminder.
        async with running_worker(mail_worker(settings)), running_worker(mail_worker(settings)):
            await eventually(lambda: all_sent(idle.freelancer.email, 2))  # unlock + reminder
            await eventually(lambda: all_sent(busy.freelancer.email, 1))  # unlock only
            await asyncio.sleep(5 * settings.milestone_reminder_check_seconds)
        assert len(await reminders_of(idle.project_id)) == 1
        # A restart: a new worker finds the reminder settled and sends nothing more. Its
        # reminder pass did run: a project unlocked since then gets its reminder from it.
        late = await make_team(api)
        await asyncio.sleep(DELAY)
        async with running_worker(mail_worker(settings)):
            await eventually(lambda: all_sent(late.freelancer.email, 2))  # unlock + reminder
            await asyncio.sleep(5 * settings.milestone_reminder_check_seconds)
        assert len(await reminders_of(late.project_id)) == 1

    [reminder] = await reminders_of(idle.project_id)
    received = [m for m in sink.to(idle.freelancer.email) if m["Subject"].startswith("Reminder")]
    assert [m["Message-ID"] for m in received] == [reminder.message_id]
    [message] = received
    assert message["Subject"] == "Reminder: add the milestones of “Data pipeline audit”"
    assert message["To"].addresses[0].display_name == idle.freelancer.name
    text = message.get_body(("plain",))
    assert text is not None and "none has been added yet" in text.get_content()

    # The project with a milestone got none, and its reminder is settled for good.
    assert await reminders_of(busy.project_id) == []
    project = await Project.get(id=pk_of(busy.project_id, "Project"))
    assert project.milestone_reminder_queued_at is not None
    assert len(sink.to(busy.freelancer.email)) == 1  # only the unlock e-mail


async def test_no_reminder_before_the_delay(api: Api, server: RunningServer) -> None:
    team = await make_team(api)
    # The control: unlocked longer ago than the delay, otherwise alike.
    due = await make_team(api)
    await Project.filter(id=pk_of(due.project_id, "Project")).update(
        milestones_unlocked_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=120)
    )
    sink = Sink()
    with smtp_server(sink) as controller:
        settings = worker_settings(server, controller.port, milestone_reminder_delay_seconds=60)
        async with running_worker(mail_worker(settings)):
            await eventually(lambda: all_sent(team.freelancer.email, 1))
            # A reminder pass has run since both were unlocked: the one past the delay got
            # its reminder.
            await eventually(lambda: all_sent(due.freelancer.email, 2))
    assert len(await reminders_of(due.project_id)) == 1
    subjects = [m["Subject"] for m in sink.to(due.freelancer.email)]
    assert [s for s in subjects if s.startswith("Reminder:")] == [
        "Reminder: add the milestones of “Data pipeline audit”"
    ]

    assert await reminders_of(team.project_id) == []
    project = await Project.get(id=pk_of(team.project_id, "Project"))
    assert project.milestone_reminder_queued_at is None
    assert len(sink.to(team.freelancer.email)) == 1  # only the unlock e-mail


async def test_no_reminder_for_a_locked_project(api: Api, server: RunningServer) -> None:
    locked = await make_team(api, unlocked=False)
    unlocked = await make_team(api)  # the control: as old, and unlocked
    await asyncio.sleep(DELAY)
    sink = Sink()
    with smtp_server(sink) as controller:
        settings = worker_settings(server, controller.port, milestone_reminder_delay_seconds=DELAY)
        async with running_worker(mail_worker(settings)):
            # A reminder pass has run since both were made: the unlocked one got its reminder.
            await eventually(lambda: all_sent(unlocked.freelancer.email, 2))
    assert len(await reminders_of(unlocked.project_id)) == 1
    subjects = [m["Subject"] for m in sink.to(unlocked.freelancer.email)]
    assert [s for s in subjects if s.startswith("Reminder:")] == [
        "Reminder: add the milestones of “Data pipeline audit”"
    ]

    assert await reminders_of(locked.project_id) == []
    assert sink.to(locked.freelancer.email) == []
    project = await Project.get(id=pk_of(locked.project_id, "Project"))
    assert project.milestone_reminder_queued_at is None


async def test_no_reminder_for_a_freelancer_who_turned_reminders_off(
    api: Api, server: RunningServer
) -> None:
    quiet = await make_team(api)
    changed = await update_settings(api, quiet.freelancer, reminders=False)
    assert changed["settings"]["reminders"] is False
    control = await make_team(api)  # as old, reminders on
    await asyncio.sleep(DELAY)
    sink = Sink()
    with smtp_server(sink) as controller:
        settings = worker_settings(server, controller.port, milestone_reminder_delay_seconds=DELAY)
        async with running_worker(mail_worker(settings)):
            await eventually(lambda: all_sent(control.freelancer.email, 2))  # unlock + reminder
            await eventually(lambda: _decided(quiet.project_id))
    assert await reminders_of(quiet.project_id) == []
    # The unlock e-mail is the platform's, and goes out whatever the settings.
    assert [m["Subject"] for m in sink.to(quiet.freelancer.email)] == [
        "Milestones unlocked: “Data pipeline audit”"
    ]


async def _decided(project_id: str) -> bool:
    project = await Project.get(id=pk_of(project_id, "Project"))
    return project.milestone_reminder_queued_at is not None
