"""Benchmark (run by hand, not a test): chatEvents fan-out latency and memory per subscription.

    .venv/bin/python bench/subscriptions.py [--subscribers 100 1000 5000] [--processes 1|2]
        [--database-url URL] [--redis-url URL] [--rounds 5] [--tokens 50] [--no-deflate]

What it does, all on 127.0.0.1:

1. Starts `--processes` real servers (`python server.py --port P`, MAIL_WORKER=0). One
   process: DATABASE_URL from --database-url or a throw-away SQLite file, REDIS_URL only if
   given. Two processes: PostgreSQL (--database-url, a fresh database is created beside it
   and dropped after) and --redis-url are required, as in production.
2. Seeds through the API: an admin (`server.py create-admin`), a client, a freelancer, one
   unlocked project, and `--tokens` access tokens (log-ins) shared round-robin by the
   subscribers, so that each event re-validates that many distinct tokens.
3. For each N in --subscribers: opens N WebSocket connections (one `chatEvents`
   subscription each, graphql-transport-ws, split evenly over the processes) from THIS
   process, a different one from the servers; waits until a warm-up message reached all N;
   reads each server's VmRSS (/proc/<pid>/status) before opening and once all are idle.
4. Commits `--rounds` chat messages, one at a time, through the LAST process (so with two
   processes a subscriber on the first one is always served through Redis), and records for
   every subscriber the time from just before the mutation is sent to the moment its client
   read the event. Prints p50 / p99 / max over all subscribers and rounds, and RSS per idle
   subscription.

Client-side costs are included in the latency (the clients share this machine's two cores
with the servers); the mutation's own round trip is printed separately.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.measures import percentile, raise_open_files_limit, rss_kib
from bench.seeding import Call, create_admin, log_in, make_team, more_log_ins
from bench.servers import database, server_process
from bench.subscriptions_sockets import Subscriber, open_all, wait_all

SEND = """mutation($input: SendChatMessageInput!) {
  sendChatMessage(input: $input) { errors { code } message { id } } }"""


@dataclass
class Server:
    process: asyncio.subprocess.Process
    url: str

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/graphql"


def env_for(database_url: str, redis_url: str, tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "MAIL_WORKER": "0",
        "MAIL_DIR": str(tmp / "mail"),
        "GRAPHIQL": "0",
        # Every subscriber comes from this one address: lift the per-address socket cap.
        "MAX_SOCKETS_PER_ADDRESS": "1000000",
    }


@contextlib.asynccontextmanager
async def server(database_url: str, redis_url: str, tmp: Path) -> AsyncIterator[Server]:
    stopped: dict[str, Any] = {}
    log = tmp / f"server-{uuid.uuid4().hex[:8]}.log"
    env = env_for(database_url, redis_url, tmp)
    script = os.environ.get("BENCH_SERVER_SCRIPT", "server.py")
    async with server_process(env, log, stopped, [script]) as (process, url):
        yield Server(process, url)
    if stopped.get("killed"):
        print("server did not stop within 30 s; it was killed", file=sys.stderr)


async def gql(
    client: httpx.AsyncClient, query: str, variables: dict | None = None, token: str = ""
) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    body = response.json()
    if "errors" in body:
        raise RuntimeError(body["errors"])
    return body["data"]


def caller(api: httpx.AsyncClient) -> Call:
    """Seeding's calls: any error, user errors in a payload included, ends the benchmark."""

    async def call(
        query: str, variables: dict[str, Any] | None, token: str, payload: str
    ) -> dict[str, Any]:
        result: dict[str, Any] = (await gql(api, query, variables, token))[payload]
        if result.get("errors"):
            raise RuntimeError(f"{payload}: {result['errors']}")
        return result

    return call


@dataclass
class Seed:
    project_id: str
    client_token: str
    tokens: list[str]


async def seed(api: httpx.AsyncClient, database_url: str, tmp: Path, tokens: int) -> Seed:
    """An admin, a team with its project, and `tokens` distinct tokens of its three users."""
    admin_email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    await create_admin(env_for(database_url, "", tmp), admin_email, "Admin")
    call = caller(api)
    admin = await log_in(call, admin_email)
    project = {"title": "Bench", "completionDate": "2099-01-01"}
    team = await make_team(call, admin, f"bench-{uuid.uuid4().hex[:8]}", project)
    known = [team.client, team.freelancer, admin]
    known += await more_log_ins(call, team, max(0, tokens - len(known)))
    return Seed(team.project_id, team.client, known)


async def start_profiler(target: Server, prefix: str, n: int) -> asyncio.subprocess.Process:
    """py-spy on the first server during the rounds (.venv/bin/pip install py-spy)."""
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("py-spy")),
        "record",
        "--pid",
        str(target.process.pid),
        "--rate",
        "250",
        "--format",
        "raw",
        "--output",
        f"{prefix}-{n}.txt",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await asyncio.sleep(1)  # attached before the first round
    return process


async def send(writer: httpx.AsyncClient, data: Seed, body: str) -> None:
    variables = {"input": {"projectId": data.project_id, "body": body}}
    await gql(writer, SEND, variables, data.client_token)


async def warm_up(subscribers: list[Subscriber], writer: httpx.AsyncClient, data: Seed) -> None:
    """Subscribing has no reply: a warm-up message shows every subscription is live. Then
    idle, with the warm-up arrivals forgotten."""
    for attempt in range(20):
        await send(writer, data, f"warm-up {attempt}")
        if await wait_all(subscribers, 1, 5):
            break
    else:
        raise RuntimeError("not every subscription went live")
    await asyncio.sleep(2)  # let stragglers' warm-ups land, then go idle
    for s in subscribers:
        s.arrivals.clear()
    await asyncio.sleep(1)


async def rounds(
    subscribers: list[Subscriber], writer: httpx.AsyncClient, data: Seed, count: int
) -> tuple[list[float], list[float]]:
    """(every subscriber's latency of every round, each round's mutation round trip)."""
    latencies: list[float] = []
    mutation_rtts: list[float] = []
    for round_ in range(count):
        sent = time.perf_counter()
        await send(writer, data, f"round {round_}")
        mutation_rtts.append(time.perf_counter() - sent)
        if not await wait_all(subscribers, round_ + 1, 60):
            missing = sum(len(s.arrivals) <= round_ for s in subscribers)
            raise RuntimeError(f"{missing} subscribers missed round {round_}")
        latencies += [s.arrivals[round_] - sent for s in subscribers]
        await asyncio.sleep(0.5)
    return latencies, mutation_rtts


async def run_size(
    n: int, servers: list[Server], data: Seed, writer: httpx.AsyncClient, args: argparse.Namespace
) -> dict[str, float]:
    rss_before = [rss_kib(s.process.pid) for s in servers]
    opened = time.perf_counter()
    subscribers = await open_all(n, servers, data.tokens, data.project_id, args.deflate)
    opening = time.perf_counter() - opened
    try:
        await warm_up(subscribers, writer, data)
        rss_after = [rss_kib(s.process.pid) for s in servers]
        profiler = await start_profiler(servers[0], args.profile, n) if args.profile else None
        latencies, mutation_rtts = await rounds(subscribers, writer, data, args.rounds)
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            await profiler.wait()
    finally:
        await asyncio.gather(*(s.close() for s in subscribers))
    per_sub = [
        (after - before) / max(1, len(range(i, n, len(servers))))
        for i, (before, after) in enumerate(zip(rss_before, rss_after, strict=True))
    ]
    return {
        "n": n,
        "open_s": opening,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies) * 1000,
        "mutation_ms": statistics.median(mutation_rtts) * 1000,
        "kib_per_sub": statistics.mean(per_sub),
    }


async def main(args: argparse.Namespace) -> None:
    raise_open_files_limit()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        async with contextlib.AsyncExitStack() as stack:
            database_url = await stack.enter_async_context(
                database(args.database_url, tmp, "bench.sqlite3")
            )
            servers = [
                await stack.enter_async_context(server(database_url, args.redis_url, tmp))
                for _ in range(args.processes)
            ]
            writer = await stack.enter_async_context(
                httpx.AsyncClient(base_url=servers[-1].url, timeout=60)
            )
            data = await seed(writer, database_url, tmp, args.tokens)
            print_heading(args, database_url, data)
            for n in args.subscribers:
                r = await run_size(n, servers, data, writer, args)
                print(
                    f"{r['n']:>11}  {r['open_s']:>7.1f}  {r['p50_ms']:>7.1f}  {r['p99_ms']:>7.1f}"
                    f"  {r['max_ms']:>7.1f}  {r['mutation_ms']:>12.1f}  {r['kib_per_sub']:>12.1f}",
                    flush=True,
                )
                await asyncio.sleep(2)


def print_heading(args: argparse.Namespace, database_url: str, data: Seed) -> None:
    backend = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    hub = "Redis" if args.redis_url else "in-process"
    print(
        f"# {args.processes} process(es), {backend}, {hub} hub, "
        f"{len(data.tokens)} distinct tokens, client offers deflate: {'yes' if args.deflate else 'no'} (server.py declines it)"
    )
    print("subscribers  open(s)  p50(ms)  p99(ms)  max(ms)  mutation(ms)  KiB/idle sub")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--processes", type=int, default=1, choices=(1, 2))
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=50)
    parser.add_argument("--profile", default="", help="py-spy raw output prefix")
    parser.add_argument("--no-deflate", dest="deflate", action="store_false")
    args = parser.parse_args()
    if args.processes > 1 and not (args.database_url.startswith("postgres") and args.redis_url):
        raise SystemExit("two processes need --database-url postgres://… and --redis-url")
    return args


if __name__ == "__main__":
    arguments_ = arguments()
    try:
        import uvloop
    except ImportError:
        asyncio.run(main(arguments_))
    else:
        uvloop.run(main(arguments_))
