"""Delivery through a real SMTP server (aiosmtpd): content, outages, rejections, concurrency.

The shared test server runs without a worker; each test runs its own against its own
aiosmtpd (tests/support_mail.py). Other tests' e-mails share the database, so assertions
look only at the recipients a test created.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter

import httpx

from infra.mail_worker import running_worker
from models import EmailStatus
from server import mail_worker
from tests.support import ROOT, Api, RunningServer, eventually, free_port, future, make_team
from tests.support_mail import (
    Sink,
    all_sent,
    drain_backlog,
    rows_to,
    smtp_server,
    worker_env,
    worker_process,
    worker_settings,
)

UNDELIVERED = """{ undeliveredEmails { id to subject status attempts lastError nextAttemptAt } }"""


async def test_email_arrives_with_recipient_subject_and_both_parts(
    api: Api, server: RunningServer
) -> None:
    team = await make_team(api)
    added = await api.add_milestone(
        team.freelancer, team.project_id, "Schema review", future(5), description="Tables & keys"
    )
    assert added["errors"] == []
    sink = Sink()
    with smtp_server(sink) as controller:
        settings = worker_settings(server, controller.port)
        async with running_worker(mail_worker(settings)):
            await eventually(lambda: all_sent(team.client.email, 1))

    [row] = await rows_to(team.client.email)
    [message] = sink.to(team.client.email)
    assert message["To"].addresses[0].addr_spec == team.client.email
    assert message["To"].addresses[0].display_name == team.client.name
    assert message["Subject"] == "Milestone added: “Schema review”"
    assert message["From"] == settings.mail_from
    assert message["Message-ID"] == row.message_id
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Date"].datetime.tzinfo is not None
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert "Schema review" in text.get_content()
    assert "Tables & keys" in text.get_content()
    assert "Tables &amp; keys" in html.get_content()
    assert row.attempts == 1 and row.sent_at is not None and row.locked_until is None
    # The freelancer got the unlock e-mail too, and nobody got anything twice.
    assert [m["Subject"] for m in sink.to(team.freelancer.email)] == [
        "Milestones unlocked: “Data pipeline audit”"
    ]


async def test_outage_then_recovery_delivers_each_email_exactly_once(
    api: Api, server: RunningServer
) -> None:
    team = await make_team(api)
    # While the server is down the worker tries one e-mail per pass (the next would fail the
    # same way), so a backlog from other tests would slow this one down.
    await drain_backlog(server)
    port = free_port()  # nothing listens here yet: connections are refused
    settings = worker_settings(server, port)
    sink = Sink()
    async with running_worker(mail_worker(settings)):
        for i in range(5):
            added = await api.add_milestone(team.freelancer, team.project_id, f"Step {i}")
            assert added["errors"] == []

        async def all_tried() -> bool:
            rows = await rows_to(team.client.email)
            return len(rows) == 5 and all(r.attempts >= 1 and r.last_error for r in rows)

        await eventually(all_tried)
        listed = (await api.data(UNDELIVERED, token=team.admin.token))["undeliveredEmails"]
        mine = [e for e in listed if e["to"] == team.client.email]
        assert len(mine) == 5
        assert all(e["status"] == "PENDING" and e["nextAttemptAt"] for e in mine)
        assert all(e["attempts"] >= 1 and e["lastError"] for e in mine)

        with smtp_server(sink, port):
            await eventually(lambda: all_sent(team.client.email, 5))
            await asyncio.sleep(0.3)  # time for a duplicate to show up, were there one

    rows = await rows_to(team.client.email)
    received = Counter(m["Message-ID"] for m in sink.to(team.client.email))
    assert received == Counter({r.message_id: 1 for r in rows})
    assert sorted(m["Subject"] for m in sink.to(team.client.email)) == [
        f"Milestone added: “Step {i}”" for i in range(5)
    ]


async def test_permanent_rejection_fails_after_bounded_attempts(
    api: Api, server: RunningServer
) -> None:
    team = await make_team(api)
    assert (await api.add_milestone(team.freelancer, team.project_id, "Kick-off"))["errors"] == []
    sink = Sink(reject=[team.client.email])
    with smtp_server(sink) as controller:
        settings = worker_settings(server, controller.port)
        async with running_worker(mail_worker(settings)):

            async def failed() -> bool:
                rows = await rows_to(team.client.email)
                return bool(rows) and rows[0].status == EmailStatus.FAILED

            await eventually(failed)
            # Other mail still flows: the freelancer's unlock e-mail was accepted.
            await eventually(lambda: all_sent(team.freelancer.email, 1))
    # The control for "nothing reached the client": the same server received the other one.
    assert [m["Subject"] for m in sink.to(team.freelancer.email)] == [
        "Milestones unlocked: “Data pipeline audit”"
    ]

    [row] = await rows_to(team.client.email)
    assert row.attempts == settings.mail_max_rejected_attempts
    assert row.last_error and "550" in row.last_error
    assert sink.to(team.client.email) == []

    listed = (await api.data(UNDELIVERED, token=team.admin.token))["undeliveredEmails"]
    [entry] = [e for e in listed if e["to"] == team.client.email]
    assert entry["status"] == "FAILED"
    assert entry["attempts"] == 3
    assert "550" in entry["lastError"]
    assert entry["subject"] == "Milestone added: “Kick-off”"
    assert entry["nextAttemptAt"] is None

    for token, code in ((team.client.token, "FORBIDDEN"), (None, "UNAUTHENTICATED")):
        body = await api.post(UNDELIVERED, token=token)
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == [code]


async def test_two_worker_processes_deliver_each_email_once(
    api: Api, server: RunningServer
) -> None:
    # On SQLite too: two processes on one database file race for the same e-mails.
    team = await make_team(api)
    for i in range(50):
        added = await api.add_milestone(team.freelancer, team.project_id, f"Part {i}")
        assert added["errors"] == []
    # Each message takes a while, so both processes are busy at the same time.
    sink = Sink(delay=0.03)
    with smtp_server(sink) as controller:
        settings = worker_settings(server, controller.port, mail_batch_size=10)
        async with worker_process(settings) as first, worker_process(settings) as second:
            await eventually(lambda: all_sent(team.client.email, 50), within=30)
            await asyncio.sleep(0.5)  # time for a duplicate to show up, were there one
        # SIGTERM stops a worker cleanly.
        assert (first.process.returncode, second.process.returncode) == (0, 0)
        logs = [w.log.result().decode() for w in (first, second)]

    rows = await rows_to(team.client.email)
    received = Counter(m["Message-ID"] for m in sink.to(team.client.email))
    assert received == Counter({r.message_id: 1 for r in rows})
    assert len(received) == 50
    # Both processes took part: the claims really competed.
    sent_by = [log.count(f"to {team.client.email}) sent by") for log in logs]
    assert sum(sent_by) == 50 and min(sent_by) > 0, sent_by


async def test_email_of_a_killed_worker_is_retried_after_its_lease(
    api: Api, server: RunningServer
) -> None:
    team = await make_team(api)
    # Deliver the unlock e-mail first, so the hung send below is the milestone's.
    sink = Sink()
    with smtp_server(sink) as controller:
        async with running_worker(mail_worker(worker_settings(server, controller.port))):
            await eventually(lambda: all_sent(team.freelancer.email, 1))
    assert (await api.add_milestone(team.freelancer, team.project_id, "Draft"))["errors"] == []

    sink.hang = True
    with smtp_server(sink) as controller:
        settings = worker_settings(server, controller.port, mail_lease_seconds=1.5)
        async with worker_process(settings) as worker:

            async def hung() -> bool:
                return sink.hung.is_set()

            try:
                await eventually(hung)
            except AssertionError:
                worker.process.kill()
                await worker.process.wait()
                print((await worker.log).decode())
                raise
            worker.process.kill()  # mid-send: the server has not answered the message yet
            await worker.process.wait()
        [row] = await rows_to(team.client.email)
        assert row.status == EmailStatus.PENDING and row.attempts == 1

        async with running_worker(mail_worker(settings)):
            await eventually(lambda: all_sent(team.client.email, 1))

    [row] = await rows_to(team.client.email)
    assert row.attempts == 2
    assert [m["Message-ID"] for m in sink.to(team.client.email)] == [row.message_id]


async def test_server_process_delivers_with_its_own_worker(server: RunningServer) -> None:
    """`python server.py` (MAIL_WORKER on, the default) delivers without a separate worker."""
    sink = Sink()
    with smtp_server(sink) as controller:
        port = free_port()
        env = worker_env(worker_settings(server, controller.port))
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "server.py",
            "--port",
            str(port),
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:

                async def healthy() -> bool:
                    try:
                        return (await http.get("/healthz")).status_code == 200
                    except httpx.TransportError:
                        return False

                await eventually(healthy)
                team = await make_team(Api(http))
                await eventually(lambda: all_sent(team.freelancer.email, 1))
        finally:
            process.send_signal(signal.SIGTERM)
            # uvicorn shuts down gracefully, then re-raises the signal it caught.
            assert await asyncio.wait_for(process.wait(), 20) in (0, -signal.SIGTERM)
    assert [m["Subject"] for m in sink.to(team.freelancer.email)] == [
        "Milestones unlocked: “Data pipeline audit”"
    ]
