"""Soak run (run by hand, not a test): the server as an operator runs it, under a steady mixed
load for a bounded time, checking that live chat loses, repeats and reorders nothing and
that memory stays flat.

    .venv/bin/python bench/soak.py [--minutes 10] [--subscribers 500] [--projects 10]
        [--database-url postgres://user@host:5432/postgres] [--redis-url redis://host:6379/0]
        [--server-log FILE] [--seed 1]

What it does, all on 127.0.0.1:

1. Starts `python server.py` as a subprocess with a temporary SQLite database (or, with
   --database-url, a fresh PostgreSQL database created beside the one given and dropped
   after), REDIS_URL only if --redis-url is given, MAIL_DIR in a temporary folder and the
   mail worker on. The admin is made with `server.py create-admin` (ADMIN_PASSWORD).
2. Seeds through the API: per project a client and a freelancer sign up, the client
   creates the project, the admin records the payment and unlocks it; 10 milestones and 10
   chat messages; two more log-ins per project, so that subscribers use five distinct
   tokens per project (client, freelancer, their second log-ins, the admin).
3. Opens --subscribers WebSocket connections (graphql-transport-ws, one `chatEvents`
   subscription each, spread evenly over the projects) and sends one chat message per
   project that every subscriber of that project must receive: the events from that
   message on are what each subscriber must see.
4. For --minutes, a steady load at fixed rates, each well inside the default rate limits
   (services/throttles.py) so that nothing is refused for going too fast:
   - `project { milestones chat(last: 20) }`, once a second per project, by its members
     and the admin in turn;
   - `projects(first: 20)`, twice a second, by every user in turn;
   - one chat message every 5 s per project, the client and the freelancer taking turns
     (one message per user every 10 s: chat_burst allows 30 per 10 s, chat_steady 600 an
     hour, i.e. one per 6 s);
   - one milestone change every 6 s per project by its freelancer, add, edit, tick, untick
     or delete, keeping 8 to 40 milestones (10 a minute: milestones_burst allows 100 a
     minute; 100 per 10 minutes: milestones_daily allows 1,000 a day).
   The server's VmRSS (/proc/<pid>/status) is read every 10 s.
5. Stops the load, waits for the last events to arrive, reads every project's chat back
   through the API and compares each subscriber's ChatMessage ids with it: lost, repeated,
   out of order, and ids that do not belong. Waits for the mail worker to write the
   expected e-mails (one per unlock and per milestone change), closes the sockets and
   stops the server with SIGTERM.

Errors of every kind are counted: HTTP statuses other than 200, transport failures,
GraphQL errors (by extensions.code), user errors in mutation payloads, `error` or
`complete` messages on a subscription, sockets the server closed, ERROR lines in the
server's log, missing e-mails, and a server that does not exit cleanly. The exit status is
1 if anything was lost, repeated, reordered or errored, or if the server's RSS grew by more
than 10 % between the warm-up sample (after the first minute) and the end; 130 if the run
was interrupted (Ctrl-C or SIGTERM; the server is stopped either way).

The load generator is this one asyncio process; it prints its own CPU use and how late its
event loop ran, next to the server's CPU, so a reader can see it was not the bottleneck.
With --redis-url, rate-limit counts live in Redis and are keyed by user id, which a fresh
database numbers from 1 again: successive runs against the same Redis share the per-day
milestone budget (about 100 changes per freelancer per 10-minute run, 1,000 a day).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import re
import resource
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.support import PASSWORD, free_port, fresh_postgres_database
from tests.support_processes import run_create_admin

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PROTOCOL = Subprotocol("graphql-transport-ws")


RSS_EVERY = 10.0  # seconds between RSS samples
WARM_UP = 60.0  # the RSS sample growth is measured from
RSS_GROWTH_LIMIT = 10.0  # percent
READ_EVERY = 1.0  # per project: project { milestones chat(last: 20) }
PROJECTS_EVERY = 0.5  # projects(first: 20), one stream for the whole run
CHAT_EVERY = 5.0  # per project, client and freelancer in turn
MILESTONE_EVERY = 6.0  # per project, by its freelancer
MILESTONES_MIN, MILESTONES_MAX = 8, 40
EXTRA_LOG_INS = 2  # per project, alternately the client and the freelancer
START_TIMEOUT = 60.0
SETTLE_TIMEOUT = 30.0  # for the last events, and for the e-mails, after the load stops
STOP_TIMEOUT = 30.0

SUBSCRIPTION = """subscription($id: ID!) { chatEvents(projectId: $id) {
  id kind body createdAt actor { id name } milestone { id title } changes { field from to } } }"""
READ_PROJECT = """query($id: ID!) { project(id: $id) {
  id title milestoneProgress { total completed }
  milestones { id title dueDate completed overdue }
  chat(last: 20) { edges { cursor node { id kind body createdAt actor { name } } } } } }"""
READ_PROJECTS = """query { projects(first: 20) { totalCount
  edges { node { id title milestonesUnlocked milestoneProgress { total completed } } } } }"""
CHAT_PAGE = """query($id: ID!, $after: String) { project(id: $id) {
  chat(first: 100, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } } }"""
SIGN_UP = """mutation($input: SignUpInput!) {
  signUp(input: $input) { errors { code field message } token user { id } } }"""
LOG_IN = """mutation($input: LogInInput!) {
  logIn(input: $input) { errors { code field message } token } }"""
CREATE_PROJECT = """mutation($input: CreateProjectInput!) {
  createProject(input: $input) { errors { code field message } project { id } } }"""
RECORD_PAYMENT = """mutation($input: ProjectRefInput!) {
  recordInitialPayment(input: $input) { errors { code field message } } }"""
UNLOCK = """mutation($input: ProjectRefInput!) {
  unlockMilestones(input: $input) { errors { code field message } } }"""
SEND_CHAT = """mutation($input: SendChatMessageInput!) {
  sendChatMessage(input: $input) { errors { code field message } message { id } } }"""
ADD_MILESTONE = """mutation($input: AddMilestoneInput!) {
  addMilestone(input: $input) { errors { code field message }
    milestone { id completed } project { milestoneProgress { total completed } } } }"""
EDIT_MILESTONE = """mutation($input: EditMilestoneInput!) {
  editMilestone(input: $input) { errors { code field message }
    milestone { id title dueDate } } }"""
SET_COMPLETED = """mutation($input: SetMilestoneCompletedInput!) {
  setMilestoneCompleted(input: $input) { errors { code field message }
    milestone { id completed completedAt } } }"""
DELETE_MILESTONE = """mutation($input: DeleteMilestoneInput!) {
  deleteMilestone(input: $input) { errors { code field message }
    deletedMilestoneId project { milestoneProgress { total completed } } } }"""

# Filler for chat bodies of varying length.
WORDS = (
    "pipeline audit schema churn model feature store backfill dashboard metric cohort "
    "forecast retrain drift label sample notebook review deploy latency budget"
).split()


# --------------------------------------------------------------------------- bookkeeping


class Stats:
    """Requests by kind with their latencies, errors by kind with a first example of each."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.latencies: dict[str, list[float]] = {}
        self.errors: Counter[str] = Counter()
        self.examples: dict[str, str] = {}
        self.behind: Counter[str] = Counter()

    def error(self, kind: str, example: str = "") -> None:
        self.errors[kind] += 1
        self.examples.setdefault(kind, example[:300])


class ApiError(RuntimeError):
    """A call made while seeding or checking failed; the run cannot go on."""


class Api:
    """POST /graphql; every failure is counted under the operation's kind and gives None."""

    def __init__(self, http: httpx.AsyncClient, stats: Stats) -> None:
        self.http = http
        self.stats = stats

    async def call(
        self,
        kind: str,
        query: str,
        variables: dict[str, Any] | None,
        token: str,
        payload: str | None = None,
    ) -> dict[str, Any] | None:
        self.stats.requests[kind] += 1
        started = time.perf_counter()
        try:
            response = await self.http.post(
                "/graphql",
                json={"query": query, "variables": variables or {}},
                headers={"Authorization": f"Bearer {token}"} if token else {},
            )
        except httpx.HTTPError as e:
            self.stats.error(f"{kind}: {type(e).__name__}", str(e))
            return None
        self.stats.latencies.setdefault(kind, []).append(time.perf_counter() - started)
        if response.status_code != 200:
            self.stats.error(f"{kind}: HTTP {response.status_code}", response.text)
            return None
        try:
            body = response.json()
        except ValueError:
            self.stats.error(f"{kind}: response is not JSON", response.text)
            return None
        if body.get("errors"):
            codes = sorted(
                {str((e.get("extensions") or {}).get("code", "no code")) for e in body["errors"]}
            )
            self.stats.error(f"{kind}: GraphQL error {','.join(codes)}", json.dumps(body))
            return None
        data = body.get("data") or {}
        if payload is None:
            return data
        result = data.get(payload)
        if result is None or result.get("errors"):
            codes = sorted({e["code"] for e in (result or {}).get("errors", [])}) or ["null"]
            self.stats.error(f"{kind}: user error {','.join(codes)}", json.dumps(body))
            return None
        return result

    async def must(
        self,
        kind: str,
        query: str,
        variables: dict[str, Any] | None,
        token: str,
        payload: str | None = None,
    ) -> dict[str, Any]:
        result = await self.call(kind, query, variables, token, payload)
        if result is None:
            key = next(k for k in self.stats.errors if k.startswith(f"{kind}:"))
            raise ApiError(f"{key}: {self.stats.examples[key]}")
        return result


def future(days: int) -> str:
    return (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days)).isoformat()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


# --------------------------------------------------------------------------- subscribers


class Subscriber:
    """One WebSocket with one chatEvents subscription; keeps the ids it received, in order."""

    def __init__(self, project: Project, token: str, stats: Stats) -> None:
        self.project = project
        self.token = token
        self.stats = stats
        self.received: list[str] = []
        self.arrived: list[float] = []
        self.ended_early = False  # its socket ended before the run closed it
        self.closing = False
        self.ws: ClientConnection | None = None
        self.reader: asyncio.Task[None] | None = None

    async def open(self, url: str) -> None:
        self.ws = await connect(url, subprotocols=[PROTOCOL], open_timeout=60)
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {self.token}"}}
        await self.ws.send(json.dumps(init))
        ack = json.loads(await asyncio.wait_for(self.ws.recv(), 30))
        if ack.get("type") != "connection_ack":
            raise ApiError(f"connection_init answered with {ack}")
        payload = {"query": SUBSCRIPTION, "variables": {"id": self.project.id}}
        await self.ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        self.reader = asyncio.create_task(self._read(self.ws))

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                now = time.perf_counter()
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "next":
                    payload = message.get("payload") or {}
                    if payload.get("errors"):
                        self.stats.error("subscription: GraphQL error", json.dumps(payload))
                    event = (payload.get("data") or {}).get("chatEvents")
                    if event:
                        self.received.append(event["id"])
                        self.arrived.append(now)
                elif kind == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
                elif kind != "pong":
                    self.stats.error(f"subscription: {kind} message", json.dumps(message))
        except ConnectionClosed:
            pass
        except Exception as e:  # a message this client cannot read is an error too
            self.ended_early = not self.closing
            self.stats.error(f"subscription: unreadable message ({type(e).__name__})", str(e))
            with contextlib.suppress(Exception):
                await ws.close()
            return
        if not self.closing:
            self.ended_early = True
            self.stats.error(
                f"socket closed by the server: code {ws.close_code}", str(ws.close_reason)
            )

    async def close(self) -> None:
        self.closing = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self.reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.reader, 10)


# --------------------------------------------------------------------------- the projects


@dataclass
class Project:
    index: int
    id: str
    client: str  # tokens
    freelancer: str
    readers: list[str]  # the tokens that read it and subscribe to it, in turn
    milestones: dict[str, bool] = field(default_factory=dict)  # id -> completed
    subscribers: list[Subscriber] = field(default_factory=list)
    start_id: str = ""  # the first event every subscriber must have
    milestone_changes: int = 0  # successful ones, each a chat event and an e-mail
    titles: int = 0


@dataclass
class Run:
    api: Api
    stats: Stats
    rng: random.Random
    projects: list[Project]
    admin: str
    everyone: list[str]  # every user's token, for projects(first: 20)
    sent_at: dict[str, float] = field(default_factory=dict)  # chat message id -> send time


async def seed(api: Api, admin: str, count: int, rng: random.Random) -> list[Project]:
    run = uuid.uuid4().hex[:8]
    projects = []
    for index in range(count):
        accounts = {}
        for role in ("CLIENT", "FREELANCER"):
            email = f"soak-{run}-{role.lower()}-{index}@example.com"
            name = f"{role.title()} {index}"
            signed = await api.must(
                "seed",
                SIGN_UP,
                {"input": {"email": email, "password": PASSWORD, "name": name, "role": role}},
                "",
                "signUp",
            )
            accounts[role] = (signed["token"], signed["user"]["id"], email)
        client, _, client_email = accounts["CLIENT"]
        freelancer, freelancer_id, freelancer_email = accounts["FREELANCER"]
        created = await api.must(
            "seed",
            CREATE_PROJECT,
            {
                "input": {
                    "title": f"Soak project {index}",
                    "description": "A steady stream of milestones and chat.",
                    "freelancerId": freelancer_id,
                    "completionDate": future(365),
                }
            },
            client,
            "createProject",
        )
        project_id = created["project"]["id"]
        ref = {"input": {"projectId": project_id}}
        await api.must("seed", RECORD_PAYMENT, ref, admin, "recordInitialPayment")
        await api.must("seed", UNLOCK, ref, admin, "unlockMilestones")
        readers = [client, freelancer]
        for n in range(EXTRA_LOG_INS):
            email = (client_email, freelancer_email)[n % 2]
            logged = await api.must(
                "seed", LOG_IN, {"input": {"email": email, "password": PASSWORD}}, "", "logIn"
            )
            readers.append(logged["token"])
        readers.append(admin)
        project = Project(index, project_id, client, freelancer, readers)
        for _ in range(10):
            await add_milestone(api, project, rng, kind="seed")
            project.milestone_changes += 1
        for n in range(10):
            author = (client, freelancer)[n % 2]
            body = {"projectId": project_id, "body": chat_body(rng, f"Seed message {n}")}
            await api.must("seed", SEND_CHAT, {"input": body}, author, "sendChatMessage")
        projects.append(project)
    return projects


def chat_body(rng: random.Random, opening: str) -> str:
    return f"{opening}: " + " ".join(rng.choices(WORDS, k=rng.randint(3, 40)))


async def add_milestone(
    api: Api, project: Project, rng: random.Random, kind: str = "addMilestone"
) -> bool:
    project.titles += 1
    variables = {
        "input": {
            "projectId": project.id,
            "title": f"Milestone {project.titles}",
            "description": " ".join(rng.choices(WORDS, k=rng.randint(0, 30))),
            "dueDate": future(rng.randint(10, 300)),
        }
    }
    call = api.must if kind == "seed" else api.call
    added = await call(kind, ADD_MILESTONE, variables, project.freelancer, "addMilestone")
    if added is None:
        return False
    project.milestones[added["milestone"]["id"]] = added["milestone"]["completed"]
    return True


async def change_milestone(run: Run, project: Project) -> None:
    """One milestone change, chosen so that the project keeps 8 to 40 milestones."""
    api, rng = run.api, run.rng
    roll, count = rng.random(), len(project.milestones)
    chosen = rng.choice(sorted(project.milestones)) if project.milestones else ""
    if count < MILESTONES_MIN or (count < MILESTONES_MAX and roll < 0.25):
        ok = await add_milestone(api, project, rng)
    else:
        fields: dict[str, Any] = {}
        if count >= MILESTONES_MAX or roll < 0.45:
            kind, query, payload = "deleteMilestone", DELETE_MILESTONE, "deleteMilestone"
        elif roll < 0.7:
            kind, query, payload = "editMilestone", EDIT_MILESTONE, "editMilestone"
            project.titles += 1
            fields["title"] = f"Milestone {project.titles} (revised)"
            if rng.random() < 0.5:
                fields["dueDate"] = future(rng.randint(10, 300))
        else:
            fields["completed"] = not project.milestones[chosen]
            kind = f"setMilestoneCompleted ({'tick' if fields['completed'] else 'untick'})"
            query, payload = SET_COMPLETED, "setMilestoneCompleted"
        variables = {"input": {"id": chosen, **fields}}
        ok = await api.call(kind, query, variables, project.freelancer, payload) is not None
        if ok and query is DELETE_MILESTONE:
            del project.milestones[chosen]
        elif ok and query is SET_COMPLETED:
            project.milestones[chosen] = fields["completed"]
    if ok:
        project.milestone_changes += 1
    else:
        await resync(api, project)


async def resync(api: Api, project: Project) -> None:
    """After a failed change, learn the milestones as they are, to go on from there."""
    data = await api.call(
        "project (after a failed change)", READ_PROJECT, {"id": project.id}, project.client
    )
    if data and data.get("project"):
        project.milestones = {m["id"]: m["completed"] for m in data["project"]["milestones"]}


async def chat_ids(api: Api, project: Project) -> list[str]:
    """Every ChatMessage id of the project, oldest first, through the API."""
    ids: list[str] = []
    after = None
    while True:
        data = await api.must(
            "chat read-back", CHAT_PAGE, {"id": project.id, "after": after}, project.client
        )
        chat = data["project"]["chat"]
        ids += [edge["node"]["id"] for edge in chat["edges"]]
        if not chat["pageInfo"]["hasNextPage"]:
            return ids
        after = chat["pageInfo"]["endCursor"]


async def until(check: Callable[[], bool], within: float) -> bool:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def received_by_all(project: Project, message_id: str) -> Callable[[], bool]:
    return lambda: all(message_id in s.received for s in project.subscribers)


async def go_live(api: Api, project: Project) -> None:
    """Send chat messages until one reached every subscriber: the events from it on count."""
    for attempt in range(1, 7):
        sent = await api.must(
            "seed",
            SEND_CHAT,
            {"input": {"projectId": project.id, "body": f"Soak starts (attempt {attempt})"}},
            project.client,
            "sendChatMessage",
        )
        message_id = sent["message"]["id"]
        if await until(received_by_all(project, message_id), 10):
            project.start_id = message_id
            return
    missing = sum(message_id not in s.received for s in project.subscribers)
    raise ApiError(f"project {project.index}: {missing} subscribers never went live")


# --------------------------------------------------------------------------- the load


async def paced(
    name: str,
    every: float,
    offset: float,
    action: Callable[[int], Awaitable[None]],
    stop: asyncio.Event,
    stats: Stats,
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
    api, rng, stats = run.api, run.rng, run.stats
    tasks = []

    def start(name: str, every: float, action: Callable[[int], Awaitable[None]]) -> None:
        offset = rng.uniform(0, every)
        tasks.append(asyncio.create_task(paced(name, every, offset, action, stop, stats)))

    for project in run.projects:

        async def read(n: int, p: Project = project) -> None:
            token = p.readers[n % len(p.readers)]
            await api.call(
                "project { milestones chat(last: 20) }", READ_PROJECT, {"id": p.id}, token
            )

        async def chat(n: int, p: Project = project) -> None:
            author = (p.client, p.freelancer)[n % 2]
            body = chat_body(rng, f"Message {n} of project {p.index}")
            variables = {"input": {"projectId": p.id, "body": body}}
            sent_at = time.perf_counter()
            sent = await api.call(
                "sendChatMessage", SEND_CHAT, variables, author, "sendChatMessage"
            )
            if sent is not None:
                run.sent_at[sent["message"]["id"]] = sent_at

        async def milestones(n: int, p: Project = project) -> None:
            await change_milestone(run, p)

        start(f"read project {project.index}", READ_EVERY, read)
        start(f"chat in project {project.index}", CHAT_EVERY, chat)
        start(f"milestones of project {project.index}", MILESTONE_EVERY, milestones)

    async def list_projects(n: int) -> None:
        token = run.everyone[n % len(run.everyone)]
        await api.call("projects(first: 20)", READ_PROJECTS, None, token)

    start("projects(first: 20)", PROJECTS_EVERY, list_projects)
    return tasks


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
    cpu_client, cpu_server = own_cpu_seconds(), process_cpu_seconds(server.pid)
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
            f"  CPU server {(process_cpu_seconds(server.pid) - cpu_server) / elapsed:4.0%}"
            f" client {(own_cpu_seconds() - cpu_client) / elapsed:4.0%}",
            flush=True,
        )
        if at >= duration:
            return
        k += 1


# --------------------------------------------------------------------------- checking


def compare(received: list[str], start_id: str, position: dict[str, int]) -> Counter[str]:
    """One subscriber's ids against the project's chat (`position`: id -> index, from the
    first event it must have)."""
    outcome: Counter[str] = Counter()
    if start_id in received:
        received = received[received.index(start_id) :]
    seen: set[str] = set()
    furthest = -1
    for message_id in received:
        if message_id not in position:
            outcome["unexpected"] += 1
        elif message_id in seen:
            outcome["repeated"] += 1
        else:
            seen.add(message_id)
            outcome["delivered"] += 1
            if position[message_id] < furthest:
                outcome["out of order"] += 1
            furthest = max(furthest, position[message_id])
    outcome["lost"] = len(position) - len(seen)
    return outcome


def server_log_problems(log: Path) -> tuple[list[str], int]:
    """ERROR / CRITICAL lines and tracebacks in the server's log; and how many warnings."""
    errors: list[str] = []
    warnings = 0
    error = re.compile(r"(^|\s)(ERROR|CRITICAL)(:|\s)")
    previous = ""
    for line in log.read_text(errors="replace").splitlines():
        # A traceback counts on its own only when no ERROR line announced it.
        if error.search(line) or (line.startswith("Traceback") and not error.search(previous)):
            errors.append(line)
        elif re.search(r"(^|\s)WARNING(:|\s)", line):
            warnings += 1
        previous = line
    return errors, warnings


def count_files(folder: Path) -> int:
    return sum(1 for _ in folder.glob("*.eml")) if folder.exists() else 0


# --------------------------------------------------------------------------- the server


@contextlib.asynccontextmanager
async def database(url: str, tmp: Path) -> AsyncIterator[str]:
    if url.startswith("postgres"):
        async with fresh_postgres_database(url) as fresh:
            yield fresh
    else:
        yield url or f"sqlite://{tmp / 'soak.sqlite3'}"


def server_env(database_url: str, redis_url: str, mail_dir: Path) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "MAIL_DIR": str(mail_dir)}
    env["MAIL_WORKER"] = "1"
    env.pop("REDIS_URL", None)
    env.pop("ADMIN_PASSWORD", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


async def create_admin(env: dict[str, str], email: str) -> None:
    status, output = await run_create_admin(env, email, "Soak Admin")
    if status != 0:
        raise ApiError(f"create-admin failed: {output}")


@contextlib.asynccontextmanager
async def serve(
    env: dict[str, str], log: Path, outcome: dict[str, Any]
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """`python server.py` until the block ends, then SIGTERM; `outcome` gets how it stopped."""
    port = free_port()
    with log.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "server.py",
            "--host",
            HOST,
            "--port",
            str(port),
            cwd=ROOT,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log_file,
            stderr=asyncio.subprocess.STDOUT,
        )
    url = f"http://{HOST}:{port}"
    try:
        async with httpx.AsyncClient() as http:
            deadline = time.monotonic() + START_TIMEOUT
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{url}/healthz")).status_code == 200:
                        break
                if process.returncode is not None:
                    raise ApiError(f"the server exited during start-up; see {log}")
                if time.monotonic() > deadline:
                    raise ApiError(f"the server was not healthy within {START_TIMEOUT:.0f} s")
                await asyncio.sleep(0.1)
        yield process, url
    finally:
        if process.returncode is None:
            stopping = time.monotonic()
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                process.kill()
                await process.wait()
                outcome["killed"] = True
            outcome["seconds"] = time.monotonic() - stopping
        outcome["status"] = process.returncode


# --------------------------------------------------------------------------- the run


async def soak(args: argparse.Namespace, tmp: Path) -> int:
    # SIGTERM, like Ctrl-C, ends the run through the same clean-up: the server is stopped.
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    stats = Stats()
    rng = random.Random(args.seed)
    duration = args.minutes * 60
    warm_up = min(WARM_UP, duration / 2)
    mail_dir = tmp / "mail"
    log = tmp / "server.log"
    stopped: dict[str, Any] = {}
    backend = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    hub = "Redis" if args.redis_url else "in-process"
    print(
        f"Soak run: {args.minutes:g} min, {args.subscribers} subscribers over {args.projects}"
        f" projects, {backend}, {hub} events, mail worker on",
        flush=True,
    )
    async with database(args.database_url, tmp) as database_url:
        env = server_env(database_url, args.redis_url, mail_dir)
        admin_email = f"soak-admin-{uuid.uuid4().hex[:8]}@example.com"
        await create_admin(env, admin_email)
        try:
            async with (
                serve(env, log, stopped) as (server, url),
                httpx.AsyncClient(base_url=url, timeout=30) as http,
            ):
                result = await drive(
                    args,
                    Api(http, stats),
                    rng,
                    server,
                    url,
                    admin_email,
                    duration,
                    warm_up,
                    mail_dir,
                )
        finally:
            if args.server_log and log.exists():
                shutil.copyfile(log, args.server_log)
    return report(args, stats, result, stopped, log, warm_up)


@dataclass
class Result:
    run: Run
    watch: Watch
    seconds: float
    cpu_client: float
    cpu_server: float
    outcomes: Counter[str]
    ended_early: int
    expected_deliveries: int
    events: int
    latencies: list[float]
    emails: int
    emails_expected: int


async def drive(
    args: argparse.Namespace,
    api: Api,
    rng: random.Random,
    server: asyncio.subprocess.Process,
    url: str,
    admin_email: str,
    duration: float,
    warm_up: float,
    mail_dir: Path,
) -> Result:
    logged = await api.must(
        "seed", LOG_IN, {"input": {"email": admin_email, "password": PASSWORD}}, "", "logIn"
    )
    admin = logged["token"]
    seeded = time.perf_counter()
    projects = await seed(api, admin, args.projects, rng)
    everyone = [admin] + [t for p in projects for t in (p.client, p.freelancer)]
    run = Run(api, api.stats, rng, projects, admin, everyone)
    print(f"seeded {len(projects)} projects in {time.perf_counter() - seeded:.1f} s", flush=True)

    ws_url = url.replace("http://", "ws://") + "/graphql"
    subscribers = []
    for i in range(args.subscribers):
        project = projects[i % len(projects)]
        subscriber = Subscriber(
            project, project.readers[(i // len(projects)) % len(project.readers)], api.stats
        )
        project.subscribers.append(subscriber)
        subscribers.append(subscriber)
    opening = time.perf_counter()
    for first in range(0, len(subscribers), 50):
        await asyncio.gather(*(s.open(ws_url) for s in subscribers[first : first + 50]))
    await asyncio.gather(*(go_live(api, p) for p in projects))
    print(
        f"{len(subscribers)} subscribers live in {time.perf_counter() - opening:.1f} s;"
        f" load for {duration:.0f} s (RSS every {RSS_EVERY:.0f} s, warm-up sample at"
        f" {warm_up:.0f} s)",
        flush=True,
    )
    # Seeding and going live are not part of the soak: count the load alone.
    api.stats.requests.clear()
    api.stats.latencies.clear()
    if api.stats.errors:
        raise ApiError(f"errors before the load: {dict(api.stats.errors)}")

    stop = asyncio.Event()
    watch = Watch()
    lag = asyncio.create_task(loop_lag(watch, stop))
    started = time.perf_counter()
    cpu_client, cpu_server = own_cpu_seconds(), process_cpu_seconds(server.pid)
    tasks = load(run, stop)
    try:
        await monitor(run, server, duration, watch)
    finally:
        stop.set()
        await asyncio.gather(*tasks, lag, return_exceptions=True)
    seconds = time.perf_counter() - started
    cpu_client = own_cpu_seconds() - cpu_client
    cpu_server = process_cpu_seconds(server.pid) - cpu_server
    requests = dict(api.stats.requests)

    # The last events: every subscriber whose socket is open must reach its project's last.
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
    # The mail worker: one e-mail per unlock and per milestone change.
    emails_expected = len(projects) + sum(p.milestone_changes for p in projects)
    await until(lambda: count_files(mail_dir) >= emails_expected, SETTLE_TIMEOUT)
    emails = count_files(mail_dir)
    await asyncio.gather(*(s.close() for s in subscribers))
    api.stats.requests.clear()
    api.stats.requests.update(requests)

    outcomes: Counter[str] = Counter()
    latencies = []
    for p in projects:
        position = {message_id: i for i, message_id in enumerate(expected[p.index])}
        for s in p.subscribers:
            outcomes += compare(s.received, p.start_id, position)
            latencies += [
                at - run.sent_at[message_id]
                for message_id, at in zip(s.received, s.arrived, strict=True)
                if message_id in run.sent_at
            ]
    return Result(
        run=run,
        watch=watch,
        seconds=seconds,
        cpu_client=cpu_client,
        cpu_server=cpu_server,
        outcomes=outcomes,
        ended_early=sum(s.ended_early for s in subscribers),
        expected_deliveries=sum(len(expected[p.index]) * len(p.subscribers) for p in projects),
        events=sum(len(expected[p.index]) for p in projects),
        latencies=latencies,
        emails=emails,
        emails_expected=emails_expected,
    )


def report(
    args: argparse.Namespace,
    stats: Stats,
    result: Result,
    stopped: dict[str, Any],
    log: Path,
    warm_up: float,
) -> int:
    failures = []
    log_errors, log_warnings = server_log_problems(log)
    for line in log_errors:
        stats.error("server log: ERROR line", line)
    if result.emails != result.emails_expected:
        stats.error(
            "e-mails: not as many as expected",
            f"{result.emails} written, {result.emails_expected} expected",
        )
    # uvicorn stops gracefully on SIGTERM, then raises the signal again: -SIGTERM is clean.
    if stopped.get("killed") or stopped.get("status") not in (0, -signal.SIGTERM):
        stats.error(
            "server stop", f"status {stopped.get('status')}, killed: {bool(stopped.get('killed'))}"
        )

    print(f"\nSummary ({result.seconds:.0f} s of load)")
    print(f"  {'requests':<38} {'count':>7} {'per s':>6} {'p50 ms':>7} {'p99 ms':>7}")
    for kind, count in sorted(stats.requests.items()):
        latencies = stats.latencies.get(kind) or [float("nan")]
        print(
            f"  {kind:<38} {count:>7} {count / result.seconds:>6.1f}"
            f" {statistics.median(latencies) * 1000:>7.1f} {percentile(latencies, 0.99) * 1000:>7.1f}"
        )
    total = sum(stats.requests.values())
    print(f"  {'all':<38} {total:>7} {total / result.seconds:>6.1f}")
    behind = sum(stats.behind.values())
    print(f"  requests that started more than one period late: {behind}")

    o = result.outcomes
    print(
        f"  chat events committed: {result.events} over {len(result.run.projects)} projects;"
        f" deliveries expected {result.expected_deliveries}, delivered {o['delivered']}"
    )
    print(
        f"  lost {o['lost']}, repeated {o['repeated']}, out of order {o['out of order']},"
        f" not of the project {o['unexpected']}; sockets that ended early {result.ended_early}"
    )
    if result.latencies:
        lat = result.latencies
        print(
            f"  chat message delivery (request sent -> subscriber read):"
            f" p50 {statistics.median(lat) * 1000:.0f} ms, p99 {percentile(lat, 0.99) * 1000:.0f} ms,"
            f" max {max(lat) * 1000:.0f} ms over {len(lat)} deliveries"
        )
    print(f"  e-mails written: {result.emails} of {result.emails_expected} expected")

    rss = result.watch.rss
    warm = next(kib for at, kib in rss if at >= warm_up)
    end = rss[-1][1]
    growth = (end - warm) / warm * 100
    print(
        f"  server RSS: start {mib(rss[0][1])}, warm-up ({warm_up:.0f} s) {mib(warm)},"
        f" end {mib(end)}, growth after warm-up {growth:+.1f} % (limit {RSS_GROWTH_LIMIT:.0f} %),"
        f" peak {mib(max(kib for _, kib in rss))}"
    )
    after = [(at, kib) for at, kib in rss if at >= warm_up]
    if len(after) >= 3:
        # The least-squares slope of the samples after warm-up: steady growth shows here
        # before it reaches the limit.
        slope = statistics.linear_regression([a for a, _ in after], [k for _, k in after]).slope
        print(f"  server RSS trend after warm-up: {slope * 60 / 1024:+.2f} MiB a minute")
    lag = result.watch.lag or [0.0]
    print(
        f"  CPU: server {result.cpu_server / result.seconds:.0%} of a core,"
        f" load generator {result.cpu_client / result.seconds:.0%} of a core"
        f" (its event loop late by p99 {percentile(lag, 0.99) * 1000:.0f} ms,"
        f" max {max(lag) * 1000:.0f} ms)"
    )
    if "seconds" in stopped:
        print(
            f"  server stopped (SIGTERM) in {stopped['seconds']:.1f} s, exit status {stopped.get('status')};"
            f" {len(log_errors)} ERROR and {log_warnings} WARNING lines in its log"
        )
    errors = sum(stats.errors.values())
    print(f"  errors: {errors}")
    for kind, count in stats.errors.most_common():
        print(f"    {count:>6}  {kind}  e.g. {stats.examples[kind]}")

    if errors:
        failures.append(f"{errors} errors")
    for what in ("lost", "repeated", "out of order", "unexpected"):
        if o[what]:
            failures.append(f"{o[what]} {what}")
    if growth > RSS_GROWTH_LIMIT:
        failures.append(f"RSS grew {growth:.1f} % after warm-up")
    print(f"RESULT: {'FAIL: ' + '; '.join(failures) if failures else 'PASS'}")
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the load")
    parser.add_argument("--subscribers", type=int, default=500)
    parser.add_argument("--projects", type=int, default=10)
    parser.add_argument(
        "--database-url", default="", help="postgres://… (a fresh database is made beside it)"
    )
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--server-log", default="", help="keep the server's log in this file")
    parser.add_argument("--seed", type=int, default=1, help="of the random choices")
    args = parser.parse_args()
    if args.minutes <= 0 or args.subscribers < args.projects or args.projects < 1:
        parser.error("need --minutes > 0 and --subscribers >= --projects >= 1")
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the server inherits it too
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        try:
            return asyncio.run(soak(args, Path(tmp)))
        except ApiError as e:
            print(f"RESULT: FAIL: {e}", file=sys.stderr)
            return 1
        except (KeyboardInterrupt, asyncio.CancelledError):
            print("RESULT: interrupted", file=sys.stderr)
            return 130


if __name__ == "__main__":
    sys.exit(main())
