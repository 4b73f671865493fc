"""The JSON refusals the edge writes itself, in the shape of a GraphQL response.

Whatever refuses a request before (or instead of) GraphQL execution, whether the body limit,
the start-up gate, a database outage, the HTTP guards or the Idempotency-Key layer,
answers as GraphQL over HTTP clients expect an error: `{"errors": [{"message": ...,
"extensions": {"code": ...}}]}`. A client then reads every refusal one way, by its code;
this module is the one place that shape is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Send


def error_body(message: str, code: str) -> dict[str, Any]:
    """A GraphQL response holding one error: `message`, for people, and `code`, for code."""
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def error_bytes(message: str, code: str) -> bytes:
    """`error_body` encoded, for layers that send their own ASGI messages."""
    return orjson.dumps(error_body(message, code))


def refusal(
    status: int, message: str, code: str, headers: Mapping[str, str] | None = None
) -> Response:
    """An HTTP error response with one GraphQL error."""
    return Response(
        error_bytes(message, code),
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


async def send_refusal(
    send: Send,
    status: int,
    message: str,
    code: str,
    headers: Sequence[tuple[bytes, bytes]] = (),
    *,
    websocket: bool = False,
) -> None:
    """`refusal` as raw ASGI messages, for layers below routing; `websocket` refuses an
    upgrade with an HTTP response (the `websocket.http.response` extension)."""
    body = error_bytes(message, code)
    kind = "websocket.http.response" if websocket else "http.response"
    length = str(len(body)).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", length), *headers]
    await send({"type": f"{kind}.start", "status": status, "headers": head})
    await send({"type": f"{kind}.body", "body": body})
