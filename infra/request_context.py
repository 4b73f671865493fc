"""What the log lines of one request share: its request id, operation and user.

Kept in context variables, so that every line logged while the request is handled (and by
the tasks it starts) carries them without being passed around (`infra/logs.py` reads them).
The request id comes from the client's `X-Request-ID` when that is a short token of safe
characters (a proxy or client may already have one), or is made here; the edge sets it for
each request (web/request_ids.py) and returns it in the response's `X-Request-ID` header;
it is stored with the e-mails the request queues, and set again by the delivery worker
while it sends them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

HEADER = "X-Request-ID"
# Long enough for a UUID, a W3C trace id or a proxy's own format; short and plain enough
# that a client cannot forge log lines, flood them, or smuggle markup through the id.
MAX_LENGTH = 128
_SAFE = re.compile(rf"[A-Za-z0-9._:@+=/-]{{1,{MAX_LENGTH}}}")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
operation_name: ContextVar[str | None] = ContextVar("operation_name", default=None)
user_id: ContextVar[int | None] = ContextVar("user_id", default=None)
# Seconds the request's GraphQL operation took (set when it ends), for the access log line.
duration: ContextVar[float | None] = ContextVar("duration", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def acting_for(rid: str | None) -> Iterator[None]:
    """Log as part of request `rid` (work it caused, done later: its e-mail) in the block."""
    token = request_id.set(rid)
    try:
        yield
    finally:
        request_id.reset(token)


def accepted_request_id(value: str | None) -> str | None:
    """`value` if it may serve as a request id, else None (a new one is made instead)."""
    if value is None or not _SAFE.fullmatch(value):
        return None
    return value
