"""undeliveredEmails: what the delivery worker has not managed to send (admins only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from tortoise.expressions import Q

from models import EmailStatus, OutboxEmail
from schema.context import Info
from schema.pagination import MAX_PAGE, page_size
from schema.types.email import OutboxEmailType


async def undelivered_emails(
    info: Info,
    first: Annotated[
        int | None, strawberry.argument(description="How many to list, 1 to 100.")
    ] = MAX_PAGE,
) -> list[OutboxEmailType]:
    """FAILED e-mails and PENDING ones with a failed attempt, most recently queued first."""
    size = page_size("first", first) or MAX_PAGE
    now = dt.datetime.now(dt.UTC)
    # An attempt in flight holds a lease and has no error yet: not (yet) a delivery problem.
    not_leased = Q(locked_until__isnull=True) | Q(locked_until__lt=now)
    retried = Q(status=EmailStatus.PENDING, attempts__gt=0) & (
        Q(last_error__isnull=False) | not_leased
    )
    rows = (
        await OutboxEmail.filter(Q(status=EmailStatus.FAILED) | retried).order_by("-id").limit(size)
    )
    return [OutboxEmailType.build(row) for row in rows]
