"""The outbox e-mail as admins see it when delivery is in trouble."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import strawberry

from models import EmailStatus as EmailStatusModel
from models import OutboxEmail
from schema.ids import to_global_id
from schema.types.common import described_enum

if TYPE_CHECKING:  # described_enum returns the class it registers
    EmailStatus = EmailStatusModel
else:
    EmailStatus = described_enum(
        EmailStatusModel,
        name="EmailStatus",
        description="Delivery state of an e-mail.",
        values={
            EmailStatusModel.PENDING: (
                "Waiting for its first delivery attempt, or for a retry after a failed one."
            ),
            EmailStatusModel.SENT: (
                "Accepted by the mail server (or written as an .eml file when no mail server "
                "is configured)."
            ),
            EmailStatusModel.FAILED: "Given up: the mail server refused it permanently.",
        },
    )


@strawberry.type(
    name="OutboxEmail",
    description="An e-mail the platform queued, with its delivery attempts so far.",
)
class OutboxEmailType:
    id: strawberry.ID = strawberry.field(description="Opaque ID of the queued e-mail.")
    to: str = strawberry.field(description="Recipient e-mail address.")
    subject: str = strawberry.field(description="Subject line.")
    status: EmailStatus = strawberry.field(description="Delivery state.")
    attempts: int = strawberry.field(description="Delivery attempts made so far.")
    last_error: str | None = strawberry.field(
        description="What went wrong on the latest failed attempt; null if none failed."
    )
    next_attempt_at: dt.datetime | None = strawberry.field(
        description="When the next attempt is due (UTC); null once the e-mail has FAILED."
    )

    @classmethod
    def build(cls, email: OutboxEmail) -> OutboxEmailType:
        return cls(
            id=strawberry.ID(to_global_id("OutboxEmail", email.id)),
            to=email.to_address,
            subject=email.subject,
            status=email.status,
            attempts=email.attempts,
            last_error=email.last_error,
            next_attempt_at=None
            if email.status == EmailStatusModel.FAILED
            else email.next_attempt_at,
        )
