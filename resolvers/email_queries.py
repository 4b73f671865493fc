"""undeliveredEmails: what the delivery worker has not managed to send (admins only)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from infra import outbox
from schema.context import Info
from schema.pagination import MAX_PAGE, page_size
from schema.types.email import OutboxEmailType


async def undelivered_emails(
    info: Info,
    first: Annotated[
        int | None, strawberry.argument(description="How many to list, 1 to 100.")
    ] = MAX_PAGE,
) -> list[OutboxEmailType]:
    rows = await outbox.undelivered(page_size("first", first) or MAX_PAGE)
    return [OutboxEmailType.build(row) for row in rows]
