"""Benchmark (run by hand, not a test): the project read path, GraphQL vs a hand-written baseline.

    .venv/bin/python bench/read_path.py [--requests 3000] [--concurrency 12] [--rounds 2]
                                        [--profile read_path.pyspy.txt]
                                        [--graphql-script server.py]

What it does, all on 127.0.0.1 and a throw-away SQLite file:

1. Starts the real app (`python server.py --port P`, DATABASE_URL=sqlite://<tmp>, MAIL_WORKER=0)
   and seeds it through the GraphQL API: a client and a freelancer sign up, an admin is made
   with `python server.py create-admin`, the client creates a project, the admin records the
   payment and unlocks it, the freelancer adds 20 milestones (ticks 5), and 30 chat
   messages are sent.
2. For each round, one server at a time (never both, so they don't share the cores):
   - GraphQL: `python server.py`, POST /graphql with READ_QUERY below;
   - baseline: `python bench/read_path_baseline.py` (Starlette + Tortoise, the same reads,
     equivalent JSON), POST /read.
   Each gets a warm-up, then a fixed number of requests from a bounded number of concurrent
   httpx clients in this process; every response must be 200 without errors.
3. Prints requests/s, p50/p99 latency, server CPU per request, and GraphQL/baseline throughput.
4. With --profile OUT, runs the GraphQL server once more under the same load with py-spy
   attached (`py-spy record --format raw`, .venv/bin/pip install py-spy) and summarises OUT.

Every loop is bounded in count and in time; every child process is stopped on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.support import free_port

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PASSWORD = "correct horse battery"
START_TIMEOUT = 30.0
RUN_TIMEOUT = 300.0  # hard cap on one measured run, whatever --requests says

READ_QUERY = """query($id: ID!) {
  project(id: $id) {
    id title
    milestones { id title description dueDate completed overdue }
    chat(last: 20) { edges { cursor node { id kind body createdAt } } }
  }
}"""


# --------------------------------------------------------------------------- processes


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    url: str


@contextlib.contextmanager
def serve(
    name: str, argv: list[str], env: dict[str, str], port: int, log: Path
) -> Iterator[Server]:
    """Run one server subprocess until the block ends; wait for its port to accept."""
    with log.open("ab") as log_file:
        proc = subprocess.Popen(
            [sys.executable, *argv, "--host", HOST, "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited during start-up; see {log}")
            with contextlib.suppress(OSError), socket.create_connection((HOST, port), 0.2):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start within {START_TIMEOUT}s; see {log}")
            time.sleep(0.05)
        yield Server(name, proc, f"http://{HOST}:{port}")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


# --------------------------------------------------------------------------- seeding


async def gql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body = r.json()
    if r.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"GraphQL call failed: {r.status_code} {body}")
    return body["data"]


async def sign_up(client: httpx.AsyncClient, role: str, n: int) -> tuple[str, str]:
    data = await gql(
        client,
        "mutation($input: SignUpInput!) { signUp(input: $input) "
        "{ errors { code } token user { id } } }",
        {
            "input": {
                "email": f"{role.lower()}{n}@example.com",
                "password": PASSWORD,
                "name": f"{role.title()} {n}",
                "role": role,
            }
        },
    )
    assert data["signUp"]["errors"] == [], data
    return data["signUp"]["user"]["id"], data["signUp"]["token"]


async def seed(server: Server, env: dict[str, str]) -> tuple[str, str]:
    """Seed the project through the API; returns (project id, the client's token)."""
    today = dt.datetime.now(dt.UTC).date()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        _, client_token = await sign_up(client, "CLIENT", 1)
        freelancer_id, freelancer_token = await sign_up(client, "FREELANCER", 1)
        await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "server.py", "create-admin", "--email", "admin1@example.com",
             "--password", PASSWORD, "--name", "Admin One"],
            cwd=ROOT, env=env, check=True, timeout=60, capture_output=True,
        )  # fmt: skip
        login = await gql(
            client,
            "mutation($input: LogInInput!) { logIn(input: $input) { errors { code } token } }",
            {"input": {"email": "admin1@example.com", "password": PASSWORD}},
        )
        admin_token = login["logIn"]["token"]
        created = await gql(
            client,
            "mutation($input: CreateProjectInput!) { createProject(input: $input) "
            "{ errors { code field } project { id } } }",
            {"input": {"title": "Data pipeline audit", "freelancerId": freelancer_id,
                       "completionDate": (today + dt.timedelta(days=120)).isoformat(),
                       "initialPaymentRequired": True}},
            client_token,
        )  # fmt: skip
        assert created["createProject"]["errors"] == [], created
        project_id = created["createProject"]["project"]["id"]
        ref = {"input": {"projectId": project_id}}
        await gql(client, "mutation($input: ProjectRefInput!) { recordInitialPayment("
                  "input: $input) { errors { code } } }", ref, admin_token)  # fmt: skip
        await gql(client, "mutation($input: ProjectRefInput!) { unlockMilestones("
                  "input: $input) { errors { code } } }", ref, admin_token)  # fmt: skip
        milestone_ids = []
        for i in range(20):
            added = await gql(
                client,
                "mutation($input: AddMilestoneInput!) { addMilestone(input: $input) "
                "{ errors { code field } milestone { id } } }",
                {"input": {"projectId": project_id, "title": f"Milestone {i + 1}",
                           "description": f"Deliverable number {i + 1} of the audit.",
                           "dueDate": (today + dt.timedelta(days=5 + 5 * (i % 12))).isoformat()}},
                freelancer_token,
            )  # fmt: skip
            assert added["addMilestone"]["errors"] == [], added
            milestone_ids.append(added["addMilestone"]["milestone"]["id"])
        for milestone_id in milestone_ids[:5]:
            await gql(client, "mutation($input: SetMilestoneCompletedInput!) { "
                      "setMilestoneCompleted(input: $input) { errors { code } } }",
                      {"input": {"id": milestone_id, "completed": True}}, freelancer_token)  # fmt: skip
        for i in range(30):
            sent = await gql(
                client,
                "mutation($input: SendChatMessageInput!) { sendChatMessage(input: $input) "
                "{ errors { code } } }",
                {"input": {"projectId": project_id,
                           "body": f"Message {i + 1}: how is the pipeline audit going?"}},
                client_token if i % 2 == 0 else freelancer_token,
            )  # fmt: skip
            assert sent["sendChatMessage"]["errors"] == [], sent
    return project_id, client_token


# --------------------------------------------------------------------------- load


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    server_cpu: float
    client_cpu: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    def line(self) -> str:
        return (
            f"{self.name:<9} {self.rps:8.1f} req/s   p50 {self.pct(50):6.1f} ms   "
            f"p99 {self.pct(99):6.1f} ms   server CPU {self.server_cpu / self.requests * 1000:5.2f}"
            f" ms/req ({self.server_cpu / self.seconds * 100:3.0f}% of a core)   "
            f"load generator {self.client_cpu / self.seconds * 100:3.0f}% of a core"
        )


async def load(
    server: Server, path: str, payload: dict[str, Any], token: str, count: int, concurrency: int
) -> tuple[int, float, list[float]]:
    """Send `count` identical requests, `concurrency` at a time; (sent, seconds, latencies)."""
    body = json.dumps(payload).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    latencies: list[float] = []
    remaining = count
    deadline = time.monotonic() + RUN_TIMEOUT

    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0 and time.monotonic() < deadline:
                remaining -= 1
                start = time.perf_counter()
                r = await client.post(path, content=body, headers=headers)
                latencies.append(time.perf_counter() - start)
                if r.status_code != 200 or b'"errors"' in r.content:
                    raise RuntimeError(f"{server.name}: {r.status_code} {r.text[:300]}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    if remaining > 0:
        raise RuntimeError(f"{server.name}: run cut off after {RUN_TIMEOUT}s")
    return len(latencies), elapsed, latencies


async def measure(
    server: Server, path: str, payload: dict[str, Any], token: str, args: argparse.Namespace
) -> Result:
    await load(server, path, payload, token, args.warmup, args.concurrency)
    cpu0, client0 = cpu_seconds(server.proc.pid), time.process_time()
    sent, seconds, latencies = await load(
        server, path, payload, token, args.requests, args.concurrency
    )
    server_cpu = cpu_seconds(server.proc.pid) - cpu0
    return Result(server.name, sent, seconds, latencies, server_cpu, time.process_time() - client0)


async def one_response(server: Server, path: str, payload: dict[str, Any], token: str) -> Any:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        r = await client.post(path, json=payload, headers={"Authorization": f"Bearer {token}"})
        r.raise_for_status()
        return r.json()


# --------------------------------------------------------------------------- profile summary

CATEGORIES = [  # (label, substrings of a frame's file); a sample goes to its innermost match
    ("SQLite driver (aiosqlite thread + sqlite3)", ("aiosqlite", "sqlite3/")),
    ("Tortoise: query building (QuerySet, pypika)", ("tortoise/queryset", "pypika")),
    ("Tortoise: executor, rows -> models", ("tortoise/backends", "tortoise/models", "tortoise/fields")),
    ("Tortoise: other", ("tortoise/",)),
    ("graphql-core: execution", ("graphql/execution", "graphql/pyutils")),
    ("graphql-core: parse/validate", ("graphql/language", "graphql/validation", "graphql/utilities")),
    ("graphql-core: other", ("graphql/",)),
    ("strawberry: schema extensions", ("strawberry/extensions",)),
    ("strawberry: field resolution (types/fields/permissions)", ("strawberry/types", "strawberry/schema/schema_converter", "strawberry/permission", "strawberry/utils", "strawberry/annotation", "strawberry/resolvers")),
    ("strawberry: http/asgi + schema.execute", ("strawberry/",)),
    ("app code (schema/, resolvers/, services/, models/)", ("/schema/", "/resolvers/", "/services/", "/models/")),
    ("json encode/decode", ("json/",)),
    ("starlette", ("starlette/",)),
    ("uvicorn + httptools (HTTP, access log)", ("uvicorn/", "httptools", "logging/")),
    ("asyncio event loop", ("asyncio/", "uvloop")),
]  # fmt: skip

MARKERS = [  # inclusive time of the frames whose text contains these
    ("get_context (bearer token -> user)", "get_context"),
    ("Query.project resolver (authorized_find)", "authorized_find"),
    ("ProjectType.milestones (DataLoader + build)", f"milestones ({ROOT}/schema/types/project.py"),
    ("ProjectType.chat (services.chat.page + build)", f"chat ({ROOT}/schema/types/project.py"),
    ("MilestoneType.build", f"build ({ROOT}/schema/types/project.py"),
    ("ChatMessageConnection/ChatMessageType.build", f"build ({ROOT}/schema/types/project.py"),
    ("permission checks (IsAuthenticated)", "permission"),
    ("ParserCache/ValidationCache + limiters", "strawberry/extensions"),
    ("graphql-core complete_value (result tree)", "complete_value"),
    ("uvicorn access log", "access_log"),
    ("json.dumps of the response", "dumps"),
]


def _frames(stack: str) -> list[str]:
    return stack.split(";")


def summarise(raw: Path, top: int = 25) -> str:
    samples: list[tuple[list[str], int]] = []
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            samples.append((_frames(stack), int(count)))
    total = sum(c for _, c in samples) or 1
    by_cat: Counter[str] = Counter()
    self_fn: Counter[str] = Counter()
    marker: Counter[str] = Counter()
    for frames, count in samples:
        self_fn[frames[-1]] += count
        label = "other"
        for frame in reversed(frames):
            hit = next((lbl for lbl, subs in CATEGORIES if any(s in frame for s in subs)), None)
            if hit:
                label = hit
                break
        by_cat[label] += count
        for name, needle in MARKERS:
            if any(needle in f for f in frames):
                marker[name] += count
    out = [f"py-spy samples: {total}", "", "Time by library (innermost frame that matches):"]
    out += [f"  {c / total * 100:5.1f}%  {lbl}" for lbl, c in by_cat.most_common()]
    out += ["", "Inclusive time of selected frames:"]
    out += [f"  {c / total * 100:5.1f}%  {n}" for n, c in marker.most_common()]
    out += ["", f"Top {top} functions by self time:"]
    out += [f"  {c / total * 100:5.1f}%  {fn}" for fn, c in self_fn.most_common(top)]
    return "\n".join(out)


# --------------------------------------------------------------------------- main


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="read_path_") as tmp:
        tmpdir = Path(tmp)
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite://{tmpdir / 'bench.sqlite3'}",
            "MAIL_WORKER": "0",
            "MAIL_DIR": str(tmpdir / "mail"),
            "REDIS_URL": "",
            "PYTHONUNBUFFERED": "1",
        }
        log = tmpdir / "servers.log"
        graphql_argv = [args.graphql_script]
        baseline_argv = ["bench/read_path_baseline.py"]

        print("seeding through the GraphQL API ...", flush=True)
        with serve("graphql", graphql_argv, env, free_port(), log) as server:
            project_id, token = await seed(server, env)
            expected = await one_response(
                server, "/graphql", {"query": READ_QUERY, "variables": {"id": project_id}}, token
            )
        gql_payload = {"query": READ_QUERY, "variables": {"id": project_id}}
        base_payload = {"id": project_id}
        with serve("baseline", baseline_argv, env, free_port(), log) as server:
            got = await one_response(server, "/read", base_payload, token)
        if got != expected:
            print("baseline and GraphQL responses differ:", file=sys.stderr)
            print(json.dumps(expected)[:2000], json.dumps(got)[:2000], sep="\n", file=sys.stderr)
            return 1
        project = expected["data"]["project"]
        print(
            f"responses identical: {len(project['milestones'])} milestones, "
            f"{len(project['chat']['edges'])} chat edges, {len(json.dumps(expected))} bytes"
        )
        print(
            f"{args.rounds} round(s) of {args.warmup} warm-up + {args.requests} requests, "
            f"{args.concurrency} concurrent, one server at a time\n",
            flush=True,
        )

        results: dict[str, list[Result]] = {"graphql": [], "baseline": []}
        for _ in range(args.rounds):
            with serve("graphql", graphql_argv, env, free_port(), log) as server:
                results["graphql"].append(
                    await measure(server, "/graphql", gql_payload, token, args)
                )
                print(results["graphql"][-1].line(), flush=True)
            with serve("baseline", baseline_argv, env, free_port(), log) as server:
                results["baseline"].append(
                    await measure(server, "/read", base_payload, token, args)
                )
                print(results["baseline"][-1].line(), flush=True)

        best = {k: max(v, key=lambda r: r.rps) for k, v in results.items()}
        ratio = best["graphql"].rps / best["baseline"].rps
        cpu_ratio = (best["baseline"].server_cpu / best["baseline"].requests) / (
            best["graphql"].server_cpu / best["graphql"].requests
        )
        print("\nbest of each:")
        print(best["graphql"].line())
        print(best["baseline"].line())
        print(
            f"GraphQL/baseline throughput: {ratio * 100:.1f}%  (goal >= 60%); "
            f"by server CPU per request: {cpu_ratio * 100:.1f}%"
        )
        all_ratios = [
            g.rps / b.rps for g, b in zip(results["graphql"], results["baseline"], strict=True)
        ]
        print(f"per-round ratios: {', '.join(f'{r * 100:.1f}%' for r in all_ratios)}")
        print(f"median per-round ratio: {statistics.median(all_ratios) * 100:.1f}%")

        if args.profile:
            out = Path(args.profile)
            print(f"\nprofiling the GraphQL server with py-spy -> {out} ...", flush=True)
            with serve("graphql", graphql_argv, env, free_port(), log) as server:
                await load(server, "/graphql", gql_payload, token, args.warmup, args.concurrency)
                spy = subprocess.Popen(  # noqa: ASYNC220 - returns at once
                    [str(Path(sys.executable).parent / "py-spy"), "record", "--pid",
                     str(server.proc.pid), "--format", "raw", "--rate", str(args.rate),
                     "--output", str(out), "--nonblocking"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                try:
                    await asyncio.sleep(1.0)
                    sent, seconds, _ = await load(
                        server, "/graphql", gql_payload, token, args.requests, args.concurrency
                    )
                    print(f"under py-spy: {sent / seconds:.1f} req/s")
                finally:
                    spy.send_signal(signal.SIGINT)
                    spy.wait(30)
            print(summarise(out))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Read-path benchmark: GraphQL vs baseline.")
    parser.add_argument("--requests", type=int, default=3000, help="measured requests per run")
    parser.add_argument("--warmup", type=int, default=300, help="warm-up requests per run")
    parser.add_argument("--concurrency", type=int, default=12, help="requests in flight")
    parser.add_argument("--rounds", type=int, default=2, help="GraphQL/baseline run pairs")
    parser.add_argument("--profile", help="also profile the GraphQL server; py-spy raw output")
    parser.add_argument(
        "--graphql-script",
        default="server.py",
        help="serve GraphQL with this script instead (must take --host/--port), to try a change",
    )
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    sys.exit(asyncio.run(main(parser.parse_args())))
