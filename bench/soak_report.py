"""The soak run's summary and verdict (bench/soak.py): what was sent and how fast, what
every subscriber received, memory, CPU, and every error counted."""

from __future__ import annotations

import signal
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.measures import mib, percentile
from bench.soak_api import Stats
from bench.soak_checks import server_log_problems
from bench.soak_load import Watch
from bench.soak_plan import RSS_GROWTH_LIMIT
from bench.soak_projects import Run


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


def report(stats: Stats, result: Result, stopped: dict[str, Any], log: Path, warm_up: float) -> int:
    """Print the summary; 1 if anything was lost, repeated, reordered or errored, or the
    server's memory grew too much, else 0."""
    log_errors, log_warnings = server_log_problems(log)
    count_problems(stats, result, stopped, log_errors)
    print(f"\nSummary ({result.seconds:.0f} s of load)")
    print_requests(stats, result.seconds)
    print_deliveries(result)
    growth = print_memory(result.watch.rss, warm_up)
    print_cpu(result, stopped, len(log_errors), log_warnings)
    errors = sum(stats.errors.values())
    print(f"  errors: {errors}")
    for kind, count in stats.errors.most_common():
        print(f"    {count:>6}  {kind}  e.g. {stats.examples[kind]}")

    failures = [f"{errors} errors"] if errors else []
    for what in ("lost", "repeated", "out of order", "unexpected"):
        if result.outcomes[what]:
            failures.append(f"{result.outcomes[what]} {what}")
    if growth > RSS_GROWTH_LIMIT:
        failures.append(f"RSS grew {growth:.1f} % after warm-up")
    print(f"RESULT: {'FAIL: ' + '; '.join(failures) if failures else 'PASS'}")
    return 1 if failures else 0


def count_problems(
    stats: Stats, result: Result, stopped: dict[str, Any], log_errors: list[str]
) -> None:
    """The errors found after the run: in the server's log, the e-mails, how it stopped."""
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


def print_requests(stats: Stats, seconds: float) -> None:
    print(f"  {'requests':<38} {'count':>7} {'per s':>6} {'p50 ms':>7} {'p99 ms':>7}")
    for kind, count in sorted(stats.requests.items()):
        latencies = stats.latencies.get(kind) or [float("nan")]
        print(
            f"  {kind:<38} {count:>7} {count / seconds:>6.1f}"
            f" {statistics.median(latencies) * 1000:>7.1f} {percentile(latencies, 0.99) * 1000:>7.1f}"
        )
    total = sum(stats.requests.values())
    print(f"  {'all':<38} {total:>7} {total / seconds:>6.1f}")
    behind = sum(stats.behind.values())
    print(f"  requests that started more than one period late: {behind}")


def print_deliveries(result: Result) -> None:
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


def print_memory(rss: list[tuple[float, int]], warm_up: float) -> float:
    """The server's RSS over the run; returns its growth after warm-up, in percent."""
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
    return growth


def print_cpu(result: Result, stopped: dict[str, Any], log_errors: int, log_warnings: int) -> None:
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
            f" {log_errors} ERROR and {log_warnings} WARNING lines in its log"
        )
