"""The e-mail outbox: queueing rendered e-mails inside the caller's transaction, holding
changes for a later batched e-mail the same way, and listing e-mails whose delivery is in
trouble."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from tortoise.expressions import Q

from infra import request_context
from mailers.render import RenderedEmail
from models import EmailStatus, MilestoneEmailMode, OutboxEmail, PendingNotice, User

MESSAGE_ID_DOMAIN = "milestones.invalid"


async def enqueue(email: RenderedEmail, *, to: User, project_id: int | None) -> OutboxEmail:
    """Store `email` for `to`; the delivery worker sends it once the transaction commits."""
    return await OutboxEmail.create(
        message_id=f"<{uuid.uuid4().hex}@{MESSAGE_ID_DOMAIN}>",
        kind=email.kind,
        to_address=to.email,
        to_name=to.name,
        subject=email.subject,
        text_body=email.text,
        html_body=email.html,
        project_id=project_id,
        list_unsubscribe=email.unsubscribe_url,
        next_attempt_at=dt.datetime.now(dt.UTC),
        # So that the worker's lines about this e-mail name the request that caused it.
        request_id=request_context.request_id.get(),
    )


async def hold(
    *,
    to: User,
    mode: MilestoneEmailMode,
    project_id: int,
    milestone_id: int,
    actor_name: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> PendingNotice:
    """Keep one change for `to`'s next batched (`mode` BATCHED) or daily (DAILY) e-mail.

    Like `enqueue`, inside the change's transaction: the notice exists exactly when the
    change does, and survives restarts until the worker turns it into an e-mail.
    """
    return await PendingNotice.create(
        recipient=to,
        mode=mode,
        project_id=project_id,
        milestone_id=milestone_id,
        actor_name=actor_name[:120],
        before=before,
        after=after,
    )


async def undelivered(limit: int) -> list[OutboxEmail]:
    """FAILED e-mails and PENDING ones with a failed attempt, most recently queued first."""
    now = dt.datetime.now(dt.UTC)
    # An attempt in flight holds a lease and has no error yet: not (yet) a delivery problem.
    not_leased = Q(locked_until__isnull=True) | Q(locked_until__lt=now)
    retried = Q(status=EmailStatus.PENDING, attempts__gt=0) & (
        Q(last_error__isnull=False) | not_leased
    )
    return (
        await OutboxEmail.filter(Q(status=EmailStatus.FAILED) | retried)
        .order_by("-id")
        .limit(limit)
    )
