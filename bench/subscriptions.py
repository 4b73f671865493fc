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
import json
import os
import resource
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.support import free_port, fresh_postgres_database

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"
SUBSCRIPTION = """subscription($id: ID!) { chatEvents(projectId: $id) {
  id kind body createdAt author { id name } actor { id name } milestone { id title }
  changes { field from to } } }"""
SEND = """mutation($input: SendChatMessageInput!) {
  sendChatMessage(input: $input) { errors { code } message { id } } }"""


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


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
    port = free_port()
    log = (tmp / f"server-{port}.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        os.environ.get("BENCH_SERVER_SCRIPT", "server.py"),
        "--port",
        str(port),
        cwd=ROOT,
        env=env_for(database_url, redis_url, tmp),
        stdout=log,
        stderr=asyncio.subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{url}/healthz")).status_code == 200:
                        break
                if process.returncode is not None:
                    raise RuntimeError(f"server exited; see {log.name}")
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("server did not become healthy")
        yield Server(process, url)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                print("server did not stop within 30 s; killing it", file=sys.stderr)
                process.kill()
                await process.wait()
        log.close()


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


@dataclass
class Seed:
    project_id: str
    client_token: str
    tokens: list[str] = field(default_factory=list)


async def seed(api: httpx.AsyncClient, database_url: str, tmp: Path, tokens: int) -> Seed:
    async def sign_up(role: str) -> tuple[str, str, str]:
        email = f"{role.lower()}-{uuid.uuid4().hex[:8]}@example.com"
        data = await gql(
            api,
            "mutation($i: SignUpInput!) { signUp(input: $i) { token user { id } } }",
            {"i": {"email": email, "password": PASSWORD, "name": role.title(), "role": role}},
        )
        return data["signUp"]["token"], data["signUp"]["user"]["id"], email

    async def log_in(email: str) -> str:
        data = await gql(
            api,
            "mutation($i: LogInInput!) { logIn(input: $i) { token } }",
            {"i": {"email": email, "password": PASSWORD}},
        )
        return data["logIn"]["token"]

    admin_email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "server.py",
        "create-admin",
        "--email",
        admin_email,
        "--password",
        PASSWORD,
        "--name",
        "Admin",
        cwd=ROOT,
        env=env_for(database_url, "", tmp),
        stdout=asyncio.subprocess.DEVNULL,
    )
    assert await process.wait() == 0
    admin = await log_in(admin_email)
    client, _, client_email = await sign_up("CLIENT")
    freelancer, freelancer_id, freelancer_email = await sign_up("FREELANCER")
    data = await gql(
        api,
        """mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id } } }""",
        {"i": {"title": "Bench", "freelancerId": freelancer_id, "completionDate": "2099-01-01"}},
        client,
    )
    project_id = data["createProject"]["project"]["id"]
    for mutation in ("recordInitialPayment", "unlockMilestones"):
        await gql(
            api,
            f"mutation($i: ProjectRefInput!) {{ {mutation}(input: $i) {{ errors {{ code }} }} }}",
            {"i": {"projectId": project_id}},
            admin,
        )
    result = Seed(project_id, client, [client, freelancer, admin])
    emails = [client_email, freelancer_email]
    while len(result.tokens) < tokens:
        result.tokens.append(await log_in(emails[len(result.tokens) % 2]))
    return result


class Subscriber:
    """One connection with one subscription; records when each event arrived."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.arrivals: list[float] = []
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            now = time.perf_counter()
            # Time first, parse never: only the arrival of each `next` matters here.
            if isinstance(raw, str) and '"next"' in raw[:40]:
                self.arrivals.append(now)

    async def close(self) -> None:
        self.reader.cancel()
        with contextlib.suppress(BaseException):
            await self.ws.close()


async def open_subscriber(url: str, token: str, project_id: str, deflate: bool) -> Subscriber:
    ws = await connect(
        url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        compression="deflate" if deflate else None,
        open_timeout=60,
        ping_interval=None,
        max_queue=None,
    )
    await ws.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    )
    ack = json.loads(await ws.recv())
    assert ack["type"] == "connection_ack", ack
    payload = {"query": SUBSCRIPTION, "variables": {"id": project_id}}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    return Subscriber(ws)


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


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def wait_all(subscribers: list[Subscriber], count: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if all(len(s.arrivals) >= count for s in subscribers):
            return True
        await asyncio.sleep(0.01)
    return False


async def run_size(
    n: int, servers: list[Server], data: Seed, writer: httpx.AsyncClient, args: argparse.Namespace
) -> dict[str, float]:
    rss_before = [rss_kib(s.process.pid) for s in servers]
    subscribers: list[Subscriber] = []
    opened = time.perf_counter()
    for start in range(0, n, 250):
        subscribers += await asyncio.gather(
            *(
                open_subscriber(
                    servers[i % len(servers)].ws_url,
                    data.tokens[i % len(data.tokens)],
                    data.project_id,
                    args.deflate,
                )
                for i in range(start, min(n, start + 250))
            )
        )
    opening = time.perf_counter() - opened
    try:
        # Subscribing has no reply: a warm-up message shows every subscription is live.
        for attempt in range(20):
            await gql(
                writer,
                SEND,
                {"input": {"projectId": data.project_id, "body": f"warm-up {attempt}"}},
                data.client_token,
            )
            if await wait_all(subscribers, 1, 5):
                break
        else:
            raise RuntimeError("not every subscription went live")
        await asyncio.sleep(2)  # let stragglers' warm-ups land, then go idle
        for s in subscribers:
            s.arrivals.clear()
        await asyncio.sleep(1)
        rss_after = [rss_kib(s.process.pid) for s in servers]
        latencies: list[float] = []
        mutation_rtts: list[float] = []
        profiler = await start_profiler(servers[0], args.profile, n) if args.profile else None
        for round_ in range(args.rounds):
            sent = time.perf_counter()
            await gql(
                writer,
                SEND,
                {"input": {"projectId": data.project_id, "body": f"round {round_}"}},
                data.client_token,
            )
            mutation_rtts.append(time.perf_counter() - sent)
            if not await wait_all(subscribers, round_ + 1, 60):
                missing = sum(len(s.arrivals) <= round_ for s in subscribers)
                raise RuntimeError(f"{missing} subscribers missed round {round_}")
            latencies += [s.arrivals[round_] - sent for s in subscribers]
            await asyncio.sleep(0.5)
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
        "p50_ms": pct(latencies, 0.50) * 1000,
        "p99_ms": pct(latencies, 0.99) * 1000,
        "max_ms": max(latencies) * 1000,
        "mutation_ms": statistics.median(mutation_rtts) * 1000,
        "kib_per_sub": statistics.mean(per_sub),
    }


async def main(args: argparse.Namespace) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        async with contextlib.AsyncExitStack() as stack:
            if args.processes > 1:
                if not (args.database_url.startswith("postgres") and args.redis_url):
                    raise SystemExit(
                        "two processes need --database-url postgres://… and --redis-url"
                    )
            if args.database_url.startswith("postgres"):
                database_url = await stack.enter_async_context(
                    fresh_postgres_database(args.database_url)
                )
            else:
                database_url = args.database_url or f"sqlite://{tmp / 'bench.sqlite3'}"
            servers = [
                await stack.enter_async_context(server(database_url, args.redis_url, tmp))
                for _ in range(args.processes)
            ]
            writer = await stack.enter_async_context(
                httpx.AsyncClient(base_url=servers[-1].url, timeout=60)
            )
            data = await seed(writer, database_url, tmp, args.tokens)
            backend = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
            hub = "Redis" if args.redis_url else "in-process"
            print(
                f"# {args.processes} process(es), {backend}, {hub} hub, "
                f"{len(data.tokens)} distinct tokens, client offers deflate: {'yes' if args.deflate else 'no'} (server.py declines it)"
            )
            print("subscribers  open(s)  p50(ms)  p99(ms)  max(ms)  mutation(ms)  KiB/idle sub")
            for n in args.subscribers:
                r = await run_size(n, servers, data, writer, args)
                print(
                    f"{r['n']:>11}  {r['open_s']:>7.1f}  {r['p50_ms']:>7.1f}  {r['p99_ms']:>7.1f}"
                    f"  {r['max_ms']:>7.1f}  {r['mutation_ms']:>12.1f}  {r['kib_per_sub']:>12.1f}",
                    flush=True,
                )
                await asyncio.sleep(2)


if __name__ == "__main__":
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
    arguments = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        asyncio.run(main(arguments))
    else:
        uvloop.run(main(arguments))
