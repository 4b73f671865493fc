"""The milestone reminder: once per project after the delay, none when a milestone exists."""

from __future__ import annotations

import asyncio

from infra.mail_worker import running_worker
from models import OutboxEmail, Project
from schema.ids import pk_of
from server import mail_worker
from tests.support import Api, RunningServer, eventually, make_team
from tests.support_mail import Sink, all_sent, smtp_server, worker_settings

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
        # A restart: a new worker finds the reminder settled and sends nothing more.
        async with running_worker(mail_worker(settings)):
            await asyncio.sleep(5 * settings.milestone_reminder_check_seconds)

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
    sink = Sink()
    with smtp_server(sink) as controller:
        settings = worker_settings(server, controller.port, milestone_reminder_delay_seconds=60)
        async with running_worker(mail_worker(settings)):
            await eventually(lambda: all_sent(team.freelancer.email, 1))
            await asyncio.sleep(5 * settings.milestone_reminder_check_seconds)
    assert await reminders_of(team.project_id) == []
    project = await Project.get(id=pk_of(team.project_id, "Project"))
    assert project.milestone_reminder_queued_at is None


async def test_no_reminder_for_a_locked_project(api: Api, server: RunningServer) -> None:
    team = await make_team(api, unlocked=False)
    await asyncio.sleep(DELAY)
    sink = Sink()
    with smtp_server(sink) as controller:
        settings = worker_settings(server, controller.port, milestone_reminder_delay_seconds=DELAY)
        async with running_worker(mail_worker(settings)):
            await asyncio.sleep(5 * settings.milestone_reminder_check_seconds)
    assert await reminders_of(team.project_id) == []
    assert sink.to(team.freelancer.email) == []
