"""The process's metrics, in prometheus-client's default registry (served by
`web/metrics.py` when METRICS is on).

Only definitions here (and dropping an operation's series), so that any module may count
without importing the rest of the machinery. Every label takes values from a small set the
server controls: operation names are bounded where they are counted (`schema/observe.py`),
error codes are the server's own.
Counting costs a lock and an addition; it happens whether or not the metrics are served.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from frameworks import fast_paths

# No `_created` series beside every counter: twice the lines for a figure nobody graphs.
disable_created_metrics()

# Seconds; from a DataLoader-served read (a millisecond) to the request time budget (10 s).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Seconds late; a reminder is due within a few seconds of its moment (services/reminders.py).
LAG_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)

OPERATIONS = Counter(
    "milestones_graphql_operations",
    "GraphQL operations, by operation name, type and outcome (ok, error: top-level errors, "
    "invalid: refused before execution).",
    ["operation", "type", "outcome"],
)
OPERATION_SECONDS = Histogram(
    "milestones_graphql_operation_duration_seconds",
    "Time to parse, validate and execute a query or mutation.",
    ["operation", "type"],
    buckets=LATENCY_BUCKETS,
)
# Every `type` and `outcome` an operation is counted under.
OPERATION_TYPES = ("query", "mutation", "subscription", "unknown")
OUTCOMES = ("ok", "error", "invalid")


def forget_operation(name: str) -> None:
    """Drop every series of operation `name`: its label was given to another name."""
    for kind in OPERATION_TYPES:
        OPERATION_SECONDS.remove(name, kind)
        for outcome in OUTCOMES:
            OPERATIONS.remove(name, kind, outcome)


ERRORS = Counter(
    "milestones_graphql_errors",
    "Top-level GraphQL errors, by extensions.code (NONE: without a code).",
    ["code"],
)
RATE_LIMITED = Counter(
    "milestones_rate_limit_refusals",
    "Requests refused with RATE_LIMITED, by budget (services/throttles.py).",
    ["budget"],
)
FANNED_OUT = Counter(
    "milestones_chat_events_fanned_out",
    "Chat events handed to subscribers of this process (one per event and subscriber).",
)
EMAIL_SEND_SECONDS = Histogram(
    "milestones_email_send_duration_seconds",
    "Time to hand one e-mail to the mail server (or file), by outcome (sent, failed).",
    ["outcome"],
    buckets=LATENCY_BUCKETS,
)
REMINDER_LAG_SECONDS = Histogram(
    "milestones_reminder_lag_seconds",
    "How long after its due moment each milestone reminder was queued.",
    buckets=LAG_BUCKETS,
)
# Set when scraped (web/metrics.py).
WEBSOCKETS_OPEN = Gauge("milestones_websockets_open", "Open WebSocket connections.")
SUBSCRIPTIONS_ACTIVE = Gauge(
    "milestones_subscriptions_active", "Active chat event subscriptions in this process."
)
OUTBOX_PENDING = Gauge("milestones_outbox_pending", "E-mails waiting to be delivered.")
OUTBOX_OLDEST_PENDING_AGE = Gauge(
    "milestones_outbox_oldest_pending_age_seconds",
    "Age of the oldest e-mail waiting to be delivered (0 when none waits).",
)
OUTBOX_FAILED = Gauge("milestones_outbox_failed", "E-mails given up after failed attempts.")
OUTBOX_READ_ERRORS = Counter(
    "milestones_outbox_read_errors",
    "Scrapes that could not read the outbox figures (the database did not answer in time).",
)


class _FastPaths(Collector):
    """Each fast path resting on frameworks' unpublished parts (frameworks/): whether it is
    on, and how often it served; read at scrape time, so that the paths count plain ints."""

    def collect(self) -> Iterator[Metric]:
        on = GaugeMetricFamily(
            "milestones_fast_path_on", "1 if the fast path is on (frameworks/).", labels=["path"]
        )
        runs = CounterMetricFamily(
            "milestones_fast_path_runs", "Times the fast path served.", labels=["path"]
        )
        for path in fast_paths.ALL:
            on.add_metric([path.name], int(path.on))
            runs.add_metric([path.name], path.runs)
        yield on
        yield runs


REGISTRY.register(_FastPaths())
