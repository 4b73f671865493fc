"""Load for bench/scale.py: one GraphQL request sent by `wrk` for a fixed time, with the
server's CPU per request read from /proc (and, for PostgreSQL, its backends' CPU too).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.measures import cpu_seconds

HOST = "127.0.0.1"
PORTS = range(18100, 18200)
WRK_TIMEOUT_MARGIN = 30.0


def free_port() -> int:
    """A free port of this benchmark's range."""
    for port in PORTS:
        with socket.socket() as s, contextlib.suppress(OSError):
            s.bind((HOST, port))
            return port
    raise RuntimeError(f"no free port in {PORTS}")


@dataclass(frozen=True, slots=True)
class Run:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    server_cpu: float
    db_cpu: float | None  # PostgreSQL backends of the server's pool; None on SQLite

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_ms(self) -> float:
        return self.server_cpu / self.requests * 1000

    @property
    def db_cpu_ms(self) -> float | None:
        return None if self.db_cpu is None else self.db_cpu / self.requests * 1000


def _lua(payload: dict[str, Any], token: str) -> str:
    body = json.dumps(payload)
    return (
        'wrk.method = "POST"\n'
        f"wrk.body = [==[{body}]==]\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {token}"\n'
    )


def _millis(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if found is None:
        raise RuntimeError(f"wrk printed a time this does not read: {text!r}")
    value, unit = found.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(
    url: str, script: Path, seconds: float, connections: int
) -> tuple[int, float, float, float]:
    """(requests, seconds, p50 ms, p99 ms) of one wrk run; every response must be 2xx."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds:.0f}s", "--latency", "-s", str(script),
         f"{url}/graphql"],
        capture_output=True, text=True, check=True, timeout=seconds + WRK_TIMEOUT_MARGIN,
    ).stdout  # fmt: skip
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw failed requests:\n{out}")
    done = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    assert done, out
    # The percentile lines of --latency, not the "+/- Stdev" percentages above them.
    p50 = re.search(r"^\s+50%\s+(\S+)$", out, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)$", out, re.MULTILINE)
    assert p50 and p99, out
    elapsed = _millis(done[2] + done[3]) / 1000
    return int(done[1]), elapsed, _millis(p50[1]), _millis(p99[1])


async def backend_pids(dsn: str | None, database: str) -> list[int]:
    """The PostgreSQL backends serving `database` (the server's pool), if on this machine."""
    if dsn is None:
        return []
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
    finally:
        await conn.close()
    return _readable([int(r["pid"]) for r in rows])


def _readable(pids: list[int]) -> list[int]:
    """Only backends whose /proc entry this process can read (PostgreSQL on this machine)."""
    return [pid for pid in pids if os.path.exists(f"/proc/{pid}/stat")]


def _cpu_of(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):  # a backend that ended: its CPU is lost, not ours
            total += cpu_seconds(pid)
    return total


async def check_response(url: str, payload: dict[str, Any], token: str) -> dict[str, Any]:
    """One request first: wrk counts statuses only, and a GraphQL error is a 200."""
    async with httpx.AsyncClient(timeout=30) as client:
        r = await client.post(
            f"{url}/graphql", json=payload, headers={"Authorization": f"Bearer {token}"}
        )
    body: dict[str, Any] = r.json()
    if r.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"request failed: {r.status_code} {str(body)[:500]}")
    return body


async def measure(
    url: str,
    pid: int,
    script: Path,
    seconds: float,
    connections: int,
    pg: tuple[str, str] | None,
) -> Run:
    """A warm-up, then one measured wrk run. `pg`: (admin DSN, database) for backend CPU."""
    wrk(url, script, max(2.0, seconds / 5), connections)
    pids = await backend_pids(*pg) if pg else []
    cpu0, db0 = cpu_seconds(pid), _cpu_of(pids)
    requests, elapsed, p50, p99 = wrk(url, script, seconds, connections)
    server_cpu, db_cpu = cpu_seconds(pid) - cpu0, _cpu_of(pids) - db0
    return Run(requests, elapsed, p50, p99, server_cpu, db_cpu if pids else None)


def write_script(path: Path, payload: dict[str, Any], token: str) -> Path:
    path.write_text(_lua(payload, token))
    return path
