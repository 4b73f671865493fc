"""The soak run's steady load at fixed rates, and what is watched meanwhile: the server's
RSS and this process's event-loop lateness (bench/soak.py)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bench.measures import cpu_seconds, mib, own_cpu_seconds, rss_kib
from bench.soak_api import ApiError, Stats
from bench.soak_plan import (
    CHAT_EVERY,
    MILESTONE_EVERY,
    PROJECTS_EVERY,
    READ_EVERY,
    READ_PROJECT,
    READ_PROJECTS,
    RSS_EVERY,
    SEND_CHAT,
)
from bench.soak_projects import Project, Run, change_milestone, chat_body

Action = Callable[[int], Awaitable[None]]


async def paced(
    name: str, every: float, offset: float, action: Action, stop: asyncio.Event, stats: Stats
) -> None:
    """Run `action(n)` every `every` seconds until `stop`; a start more than one period
    late is counted as behind schedule and the schedule starts again from now."""
    loop = asyncio.get_running_loop()
    due = loop.time() + offset
    n = 0
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max(0.0, due - loop.time()))
        if stop.is_set():
            return
        try:
            await action(n)
        except Exception as e:  # counted, never a load that silently stops
            stats.error(f"load generator: {type(e).__name__} in {name}", repr(e))
        n += 1
        due += every
        if loop.time() - due > every:
            stats.behind[name] += 1
            due = loop.time()


def load(run: Run, stop: asyncio.Event) -> list[asyncio.Task[None]]:
    """Every stream of the load, each at its own rate from a random offset."""

    async def list_projects(n: int) -> None:
        token = run.everyone[n % len(run.everyone)]
        await run.api.call("projects(first: 20)", READ_PROJECTS, None, token)

    streams = [s for project in run.projects for s in project_streams(run, project)]
    streams.append(("projects(first: 20)", PROJECTS_EVERY, list_projects))
    tasks = []
    for name, every, action in streams:
        offset = run.rng.uniform(0, every)
        tasks.append(asyncio.create_task(paced(name, every, offset, action, stop, run.stats)))
    return tasks


def project_streams(run: Run, p: Project) -> list[tuple[str, float, Action]]:
    """One project's reads, chat and milestone changes."""
    api = run.api

    async def read(n: int) -> None:
        token = p.readers[n % len(p.readers)]
        await api.call("project { milestones chat(last: 20) }", READ_PROJECT, {"id": p.id}, token)

    async def chat(n: int) -> None:
        author = (p.client, p.freelancer)[n % 2]
        body = chat_body(run.rng, f"Message {n} of project {p.index}")
        variables = {"input": {"projectId": p.id, "body": body}}
        sent_at = time.perf_counter()
        sent = await api.call("sendChatMessage", SEND_CHAT, variables, author, "sendChatMessage")
        if sent is not None:
            run.sent_at[sent["message"]["id"]] = sent_at

    async def milestones(n: int) -> None:
        await change_milestone(run, p)

    return [
        (f"read project {p.index}", READ_EVERY, read),
        (f"chat in project {p.index}", CHAT_EVERY, chat),
        (f"milestones of project {p.index}", MILESTONE_EVERY, milestones),
    ]


@dataclass
class Watch:
    """What the monitor saw: RSS samples and the client's event-loop lateness."""

    rss: list[tuple[float, int]] = field(default_factory=list)
    lag: list[float] = field(default_factory=list)


async def loop_lag(watch: Watch, stop: asyncio.Event) -> None:
    """How late this process's event loop wakes a 100 ms timer: if the client were the
    bottleneck, this would show it."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        expected = loop.time() + 0.1
        await asyncio.sleep(0.1)
        watch.lag.append(max(0.0, loop.time() - expected))


async def monitor(
    run: Run, server: asyncio.subprocess.Process, duration: float, watch: Watch
) -> None:
    """Sample the server's RSS every 10 s until `duration`, and print one line per sample."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    cpu_client, cpu_server = own_cpu_seconds(), cpu_seconds(server.pid)
    watch.rss.append((0.0, rss_kib(server.pid)))
    k = 1
    while True:
        at = min(k * RSS_EVERY, duration)
        await asyncio.sleep(max(0.0, started + at - loop.time()))
        if server.returncode is not None:
            raise ApiError(f"the server exited during the run with status {server.returncode}")
        watch.rss.append((at, rss_kib(server.pid)))
        elapsed = loop.time() - started
        deliveries = sum(len(s.received) for p in run.projects for s in p.subscribers)
        print(
            f"  {at:6.0f} s  server RSS {mib(watch.rss[-1][1]):>10}"
            f"  requests {sum(run.stats.requests.values()):>7}  deliveries {deliveries:>8}"
            f"  errors {sum(run.stats.errors.values()):>3}"
            f"  CPU server {(cpu_seconds(server.pid) - cpu_server) / elapsed:4.0%}"
            f" client {(own_cpu_seconds() - cpu_client) / elapsed:4.0%}",
            flush=True,
        )
        if at >= duration:
            return
        k += 1
