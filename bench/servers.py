"""Server subprocesses for the benchmarks in this folder: start one, wait for its port, stop it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
START_TIMEOUT = 30.0


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _ready(port: int) -> bool:
    """Whether the server answers /readyz with 200: it listens before it has migrated."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/readyz", timeout=1) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


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
            if _ready(port):
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
