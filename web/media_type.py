"""GraphQL over HTTP's `application/graphql-response+json`, for clients that ask for it.

With that media type in `Accept` (preferred to, or as good as, `application/json`), every
JSON answer of /graphql carries it, and a request that fails before execution (a document
that does not parse or validate, an unknown persisted query) gets 400 and no `data` entry,
as the spec requires. Without it, the legacy `application/json` behaviour stays: 200 with
`data: null` and the errors.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import Message, Scope, Send

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def _quality(accept: str, media_type: str) -> float:
    """The q-value `accept` gives `media_type` itself (no wildcards), 0 when absent."""
    best = 0.0
    for entry in accept.split(","):
        name, *params = (part.strip() for part in entry.split(";"))
        if name.lower() != media_type:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best = max(best, q)
    return best


def wants_graphql_response(accept: str | None) -> bool:
    """Whether the client prefers `application/graphql-response+json` (ties go to it)."""
    if not accept:
        return False
    wanted = _quality(accept, GRAPHQL_RESPONSE)
    return wanted > 0 and wanted >= _quality(accept, JSON)


def relabelling(scope: Scope, send: Send) -> Send:
    """`send`, or for a client that asked for `application/graphql-response+json`, a `send`
    that labels the `application/json` responses it starts with that type (same body)."""
    if not wants_graphql_response(Headers(scope=scope).get("accept")):
        return send

    async def relabelled(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            if headers.get("content-type", "").startswith(JSON):
                headers["content-type"] = GRAPHQL_RESPONSE
        await send(message)

    return relabelled
