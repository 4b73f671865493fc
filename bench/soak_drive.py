"""The soak run against a started server (bench/soak.py): seed, open the subscribers, hold
the load, let the last events and e-mails arrive, and tally what each subscriber got."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.measures import cpu_seconds, own_cpu_seconds
from bench.seeding import log_in
from bench.soak_api import Api, ApiError
from bench.soak_checks import compare, count_files
from bench.soak_load import Watch, load, loop_lag, monitor
from bench.soak_plan import RSS_EVERY, SETTLE_TIMEOUT
from bench.soak_projects import Project, Run, chat_ids, go_live, seed, until
from bench.soak_report import Result
from bench.soak_subscribers import Subscriber


@dataclass
class Plan:
    """The run's shape, from the command line."""

    projects: int
    subscribers: int
    duration: float
    warm_up: float


@dataclass
class Load:
    """The load's length and the CPU the server and this process spent on it."""

    watch: Watch
    seconds: float
    cpu_client: float
    cpu_server: float


async def drive(
    plan: Plan,
    api: Api,
    rng: random.Random,
    server: asyncio.subprocess.Process,
    url: str,
    admin_email: str,
    mail_dir: Path,
) -> Result:
    admin = await log_in(api.seeder(), admin_email)
    seeded = time.perf_counter()
    projects = await seed(api, admin, plan.projects, rng)
    everyone = [admin] + [t for p in projects for t in (p.client, p.freelancer)]
    run = Run(api, api.stats, rng, projects, admin, everyone)
    print(f"seeded {len(projects)} projects in {time.perf_counter() - seeded:.1f} s", flush=True)
    subscribers = await go_live_all(api, projects, url, plan)
    # Seeding and going live are not part of the soak: count the load alone.
    api.stats.requests.clear()
    api.stats.latencies.clear()
    if api.stats.errors:
        raise ApiError(f"errors before the load: {dict(api.stats.errors)}")
    held = await hold_load(run, server, plan.duration)
    requests = dict(api.stats.requests)
    expected = await settle(api, projects)
    # The mail worker: one e-mail per unlock and per milestone change.
    emails_expected = len(projects) + sum(p.milestone_changes for p in projects)
    await until(lambda: count_files(mail_dir) >= emails_expected, SETTLE_TIMEOUT)
    emails = count_files(mail_dir)
    await asyncio.gather(*(s.close() for s in subscribers))
    api.stats.requests.clear()
    api.stats.requests.update(requests)
    outcomes, latencies = tally(run, expected)
    return Result(
        run=run, watch=held.watch, seconds=held.seconds,
        cpu_client=held.cpu_client, cpu_server=held.cpu_server, outcomes=outcomes,
        ended_early=sum(s.ended_early for s in subscribers),
        expected_deliveries=sum(len(expected[p.index]) * len(p.subscribers) for p in projects),
        events=sum(len(expected[p.index]) for p in projects),
        latencies=latencies, emails=emails, emails_expected=emails_expected,
    )  # fmt: skip


async def go_live_all(api: Api, projects: list[Project], url: str, plan: Plan) -> list[Subscriber]:
    """Every subscriber open (50 at a time), and one message per project received by all."""
    ws_url = url.replace("http://", "ws://") + "/graphql"
    subscribers = []
    for i in range(plan.subscribers):
        project = projects[i % len(projects)]
        token = project.readers[(i // len(projects)) % len(project.readers)]
        subscriber = Subscriber(project.id, token, api.stats)
        project.subscribers.append(subscriber)
        subscribers.append(subscriber)
    opening = time.perf_counter()
    for first in range(0, len(subscribers), 50):
        await asyncio.gather(*(s.open(ws_url) for s in subscribers[first : first + 50]))
    await asyncio.gather(*(go_live(api, p) for p in projects))
    print(
        f"{len(subscribers)} subscribers live in {time.perf_counter() - opening:.1f} s;"
        f" load for {plan.duration:.0f} s (RSS every {RSS_EVERY:.0f} s, warm-up sample at"
        f" {plan.warm_up:.0f} s)",
        flush=True,
    )
    return subscribers


async def hold_load(run: Run, server: asyncio.subprocess.Process, duration: float) -> Load:
    stop = asyncio.Event()
    watch = Watch()
    lag = asyncio.create_task(loop_lag(watch, stop))
    started = time.perf_counter()
    cpu_client, cpu_server = own_cpu_seconds(), cpu_seconds(server.pid)
    tasks = load(run, stop)
    try:
        await monitor(run, server, duration, watch)
    finally:
        stop.set()
        await asyncio.gather(*tasks, lag, return_exceptions=True)
    return Load(
        watch,
        time.perf_counter() - started,
        own_cpu_seconds() - cpu_client,
        cpu_seconds(server.pid) - cpu_server,
    )


async def settle(api: Api, projects: list[Project]) -> dict[int, list[str]]:
    """Each project's chat from its start message, once every subscriber whose socket is
    open has reached its last event (or SETTLE_TIMEOUT passed)."""
    expected = {p.index: await chat_ids(api, p) for p in projects}
    for p in projects:
        if p.start_id not in expected[p.index]:
            raise ApiError(f"project {p.index}: the start message is not in its chat")
        expected[p.index] = expected[p.index][expected[p.index].index(p.start_id) :]
    await until(
        lambda: all(
            s.ended_early or (s.received and s.received[-1] == expected[p.index][-1])
            for p in projects
            for s in p.subscribers
        ),
        SETTLE_TIMEOUT,
    )
    await asyncio.sleep(1)  # anything arriving late, repeated, would arrive now
    return expected


def tally(run: Run, expected: dict[int, list[str]]) -> tuple[Counter[str], list[float]]:
    """Every subscriber's outcomes added up, and each chat message's delivery latencies."""
    outcomes: Counter[str] = Counter()
    latencies = []
    for p in run.projects:
        position = {message_id: i for i, message_id in enumerate(expected[p.index])}
        for s in p.subscribers:
            outcomes += compare(s.received, p.start_id, position)
            latencies += [
                at - run.sent_at[message_id]
                for message_id, at in zip(s.received, s.arrived, strict=True)
                if message_id in run.sent_at
            ]
    return outcomes, latencies
