"""The milestone reminder goes out on time, once: with two workers, and across a restart.

Real `python server.py worker` processes with MILESTONE_REMINDER_DELAY_SECONDS=12 and their
own default look-up interval, a real SMTP server (aiosmtpd) that notes when each message
arrives. The reminder must arrive within ON_TIME_SECONDS of the unlock time recorded in the
database plus the delay: the worker sleeps until the reminder falls due, not for a fixed
tick.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

import pytest

from models import EmailStatus, OutboxEmail, Project
from schema.ids import pk_of
from services.reminders import ON_TIME_SECONDS
from settings import Settings
from tests.support import Api, RunningServer, eventually, make_team
from tests.support_mail import Sink, all_sent, smtp_server, worker_process, worker_settings

# Long enough that a worker stopped and started again on two busy cores (a second or two
# each) still comes back well before the reminder is due; the reminder is not waited for
# in a sleep but by the real SMTP server receiving it.
DELAY = 12.0


class ClockedSink(Sink):
    """A Sink that notes when (wall clock) it accepted each message, by Message-ID."""

    def __init__(self) -> None:
        super().__init__()
        self.accepted_at: dict[str, float] = {}

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        with self._lock:
            self.accepted_at.setdefault(self.received[-1][1]["Message-ID"], time.time())
        return answer


def reminder_settings(server: RunningServer, port: int) -> Settings:
    # The workers look for new unlocks as often as they decide themselves (the default
    # MILESTONE_REMINDER_CHECK_SECONDS is a minute): only the delay is short.
    return worker_settings(server, port, milestone_reminder_delay_seconds=DELAY)


async def settled() -> bool:
    """Nothing left from earlier tests: every e-mail out, every due reminder decided."""
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=DELAY)
    pending = OutboxEmail.filter(status=EmailStatus.PENDING)
    undecided = Project.filter(
        milestone_reminder_queued_at__isnull=True, milestones_unlocked_at__lte=cutoff
    )
    return not await pending.exists() and not await undecided.exists()


async def reminders_of(project_id: str) -> list[OutboxEmail]:
    return await OutboxEmail.filter(
        project_id=pk_of(project_id, "Project"), kind="milestone_reminder"
    ).order_by("id")


async def lateness(sink: ClockedSink, project_id: str) -> float:
    """Seconds between the reminder's due moment (unlock + delay) and its arrival."""
    [reminder] = await reminders_of(project_id)
    project = await Project.get(id=pk_of(project_id, "Project"))
    assert project.milestones_unlocked_at is not None
    due = project.milestones_unlocked_at.timestamp() + DELAY
    return sink.accepted_at[reminder.message_id] - due


async def test_reminder_arrives_on_time_once_with_two_worker_processes(
    api: Api, server: RunningServer
) -> None:
    if server.settings.database_url.startswith("sqlite"):
        pytest.skip("several worker processes share one database on PostgreSQL")
    sink = ClockedSink()
    with smtp_server(sink) as controller:
        settings = reminder_settings(server, controller.port)
        async with worker_process(settings) as first, worker_process(settings) as second:
            await eventually(settled, within=60)
            team = await make_team(api)
            # Unlock e-mail, then the reminder.
            await eventually(lambda: all_sent(team.freelancer.email, 2), within=DELAY + 10)
            await asyncio.sleep(0.5)  # time for a duplicate to show up, were there one
        for worker in (first, second):
            assert worker.process.returncode == 0, worker.log.result().decode()

    assert 0 <= await lateness(sink, team.project_id) <= ON_TIME_SECONDS
    [reminder] = await reminders_of(team.project_id)
    received = [m["Message-ID"] for m in sink.to(team.freelancer.email)]
    assert received.count(reminder.message_id) == 1 and len(received) == 2


@pytest.mark.long
async def test_reminder_arrives_on_time_across_a_worker_restart(
    api: Api, server: RunningServer
) -> None:
    sink = ClockedSink()
    with smtp_server(sink) as controller:
        settings = reminder_settings(server, controller.port)
        async with worker_process(settings):
            await eventually(settled, within=60)
            team = await make_team(api)
            # This worker has seen the unlock: it sent its e-mail. Then it is restarted.
            await eventually(lambda: all_sent(team.freelancer.email, 1))
        project = await Project.get(id=pk_of(team.project_id, "Project"))
        assert project.milestones_unlocked_at is not None
        since_unlock = time.time() - project.milestones_unlocked_at.timestamp()
        assert since_unlock < DELAY - 1, "the restart must fall within the delay"
        async with worker_process(settings):
            await eventually(lambda: all_sent(team.freelancer.email, 2), within=DELAY + 10)
            await asyncio.sleep(0.5)  # time for a duplicate to show up, were there one

    assert 0 <= await lateness(sink, team.project_id) <= ON_TIME_SECONDS
    assert len(await reminders_of(team.project_id)) == 1
    assert len(sink.to(team.freelancer.email)) == 2
