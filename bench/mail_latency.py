"""Benchmark (run by hand): does a slow mail server slow down mutations? How fast is the drain?

1. addMilestone latency, p50 and p99, with the server's own delivery worker sending to a
   fast local aiosmtpd, then to one that takes 2 s per message. E-mail is sent off the
   request path, so the ratio slow/fast should stay close to 1 (goal: at most 1.1).
2. Outbox drain rate: e-mails per second one worker delivers to a fast local aiosmtpd.

    .venv/bin/python bench/mail_latency.py [--requests 300] [--emails 1000]
        [--postgres postgres://postgres@127.0.0.1:5432/postgres]

Each run uses a fresh database (a temporary SQLite file, or a new PostgreSQL database next
to the one given, dropped afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measures import percentile
from bench.servers import database
from infra.mail_worker import MailWorker
from infra.outbox import enqueue
from mailers import milestone_mailer
from models import EmailStatus, OutboxEmail, User
from settings import Settings
from tests.support import (
    Api,
    free_port,
    future,
    make_team,
    running_server,
)


class Sink:
    """Accepts every message, after `delay` seconds."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        self.count += 1
        return "250 OK"


@contextlib.contextmanager
def smtp(delay: float) -> Any:
    controller = Controller(Sink(delay), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


async def add_milestone_latencies(settings: Settings, requests: int) -> list[float]:
    """Seconds per addMilestone, sequential, with the server's worker delivering meanwhile."""
    async with (
        running_server(settings) as server,
        httpx.AsyncClient(base_url=server.url, timeout=60) as http,
    ):
        api = Api(http)
        team = await make_team(api)
        for i in range(20):  # warm-up: caches, connections, first e-mails
            await api.add_milestone(team.freelancer, team.project_id, f"Warm-up {i}", future(9))
        latencies = []
        for i in range(requests):
            start = time.perf_counter()
            added = await api.add_milestone(
                team.freelancer, team.project_id, f"Step {i}", future(9)
            )
            latencies.append(time.perf_counter() - start)
            assert added["errors"] == [], added
        return latencies


async def drain_rate(settings: Settings, emails: int) -> tuple[int, float]:
    """(e-mails, e-mails per second) one worker delivers from a full outbox to a fast aiosmtpd.

    The outbox also holds what the slow mail server had not taken yet; those count too.
    """
    async with running_server(dataclasses.replace(settings, run_mail_worker=False)) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            team = await make_team(Api(http))
        client = await User.get(email=team.client.email)
        for i in range(emails):
            due = dt.date.today() + dt.timedelta(days=9)
            news = milestone_mailer.MilestoneNews(client.name, "Bench", "Bench", f"Bench {i}", due)
            email = milestone_mailer.milestone_added(news, description="")
            await enqueue(email, to=client, project_id=None)
        queued = await OutboxEmail.filter(status=EmailStatus.PENDING).count()
        worker = MailWorker(settings)
        start = time.perf_counter()
        task = asyncio.create_task(worker.run())
        pending = True
        while pending:  # polling the database is what tells "drained" across processes too
            await asyncio.sleep(0.01)
            pending = await OutboxEmail.filter(status=EmailStatus.PENDING).exists()
        elapsed = time.perf_counter() - start
        worker.stop()
        await task
        return queued, queued / elapsed


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with database(args.postgres or "", Path(tmp), "bench.sqlite3") as url:
            mail_dir = Path(tmp) / "mail"
            base = Settings(
                database_url=url,
                mail_dir=mail_dir,
                smtp_host="127.0.0.1",
                smtp_timeout_seconds=10,
                mail_poll_seconds=0.2,
            )
            results = {}
            for name, delay in (("fast", 0.0), ("slow", 2.0)):
                with smtp(delay) as controller:
                    settings = dataclasses.replace(base, smtp_port=controller.port)
                    results[name] = await add_milestone_latencies(settings, args.requests)
            with smtp(0.0) as controller:
                drained, rate = await drain_rate(
                    dataclasses.replace(base, smtp_port=controller.port, mail_poll_seconds=0.01),
                    args.emails,
                )

    backend = "postgres" if args.postgres else "sqlite"
    print(f"backend: {backend}, {args.requests} sequential addMilestone requests per mail server")
    for name, values in results.items():
        p50, p99 = statistics.median(values), percentile(values, 0.99)
        print(f"  {name} SMTP: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
    p50_ratio = statistics.median(results["slow"]) / statistics.median(results["fast"])
    p99_ratio = percentile(results["slow"], 0.99) / percentile(results["fast"], 0.99)
    print(f"  ratio slow/fast: p50 {p50_ratio:.2f}, p99 {p99_ratio:.2f} (goal <= 1.1)")
    print(f"drain: {drained} e-mails at {rate:.0f} e-mails/s (one worker, local aiosmtpd)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--emails", type=int, default=1000)
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server to use instead")
    asyncio.run(main(parser.parse_args()))
