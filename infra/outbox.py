"""Queues rendered e-mails in the outbox, inside the caller's transaction."""

from __future__ import annotations

import datetime as dt
import uuid

from mailers.render import RenderedEmail
from models import OutboxEmail, User

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
        next_attempt_at=dt.datetime.now(dt.UTC),
    )
