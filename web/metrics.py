"""GET /metrics: the process's metrics in the Prometheus text format (METRICS=1).

What is kept elsewhere is read at scrape time: open WebSockets and subscriptions from this
process's registries, the outbox figures from the database (one aggregate over the
pending e-mails, served by the (status, next_attempt_at) index, and one count of the
failed ones; given up after OUTBOX_READ_SECONDS, leaving the last figures in place).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from prometheus_client import REGISTRY
from prometheus_client.exposition import choose_encoder
from starlette.requests import Request
from starlette.responses import Response
from tortoise.functions import Count, Min

from infra import events, metrics
from infra.shutdown import open_connections
from models import EmailStatus, OutboxEmail

logger = logging.getLogger("milestones.metrics")

# A scrape waits this long for the outbox figures: a slow database must not make the
# scraper time out and lose every other figure with them.
OUTBOX_READ_SECONDS = 2.0


async def _outbox_figures() -> tuple[int, float, int]:
    """(pending e-mails, age of the oldest in seconds, failed e-mails)."""
    pending = (
        await OutboxEmail.filter(status=EmailStatus.PENDING)
        .annotate(count=Count("id"), oldest=Min("created_at"))
        .values("count", "oldest")
    )
    count = int(pending[0]["count"] or 0) if pending else 0
    oldest = pending[0]["oldest"] if pending else None
    failed = await OutboxEmail.filter(status=EmailStatus.FAILED).count()
    age = 0.0
    if isinstance(oldest, dt.datetime):
        age = max(0.0, (dt.datetime.now(dt.UTC) - oldest).total_seconds())
    return count, age, failed


async def refresh() -> None:
    """Bring the figures read at scrape time up to date."""
    metrics.WEBSOCKETS_OPEN.set(len(open_connections))
    metrics.SUBSCRIPTIONS_ACTIVE.set(events.feeds().subscriber_count)
    try:
        async with asyncio.timeout(OUTBOX_READ_SECONDS):
            pending, age, failed = await _outbox_figures()
    except Exception as error:  # the other figures are still worth serving
        metrics.OUTBOX_READ_ERRORS.inc()
        logger.warning("metrics: could not read the outbox figures (%r)", error)
        return
    metrics.OUTBOX_PENDING.set(pending)
    metrics.OUTBOX_OLDEST_PENDING_AGE.set(age)
    metrics.OUTBOX_FAILED.set(failed)


async def serve_metrics(request: Request) -> Response:
    await refresh()
    # The format the scraper asks for (Prometheus text, or OpenMetrics).
    encode, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(REGISTRY), headers={"Content-Type": content_type})
