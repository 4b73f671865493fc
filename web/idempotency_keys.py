"""The Idempotency-Key header on POST /graphql: a retried mutation runs once.

Semantics of the IETF httpapi draft "The Idempotency-Key HTTP Header Field":

- A mutation sent with a key by a signed-in user runs once; its response (status, body
  bytes) is kept for 24 hours, scoped to that user, and a retry with the same key and the
  same request (document, operation name, variables, extensions) gets it back unchanged,
  with `Idempotent-Replayed: true`, running nothing: no change, chat event or e-mail.
- The same key with another request: 422, top-level error IDEMPOTENCY_KEY_REUSED.
- The same key while its first request still runs: 409, IDEMPOTENCY_KEY_IN_USE, at once
  (the draft's answer; the client retries after a moment and gets the kept response).
- A malformed key (empty, longer than MAX_KEY_LENGTH, not printable ASCII, sent twice): 400.
- Queries, and requests without a signed-in viewer, are served as if there were no key:
  nothing changes for a query, and an anonymous caller has no scope to keep a key in
  (signUp and logIn, the mutations that need no token, are safe to retry anyway).
- A mutation named by persisted-query hash alone is the request of its document: the same
  key and hash replay it. A hash this process does not hold is answered NOT_FOUND here, as
  the endpoint would, and runs nothing. A document of several operations without
  `operationName` runs nothing (schema/operation_choice.py): no key to honour.
- Only responses of mutations that ran are kept: a 200 whose top-level errors, if any, are
  the contract's access errors or RESPONSE_TOO_LARGE (the mutation ran; its answer was
  not sent). A crash, a time-out, a refused document or rate limit, a 5xx is not kept, so
  the client can retry; a user error in the payload is kept.
- An answer that may hold a secret (a session token of signUp or logIn, a calendar feed
  URL: web/idempotent_requests.py decides from the document), or that is larger than a
  row keeps (infra.idempotency_store.MAX_KEPT_BYTES), is sent to the client but not stored: the
  key keeps a marker instead, and a retry gets IDEMPOTENT_RESPONSE_NOT_KEPT saying why,
  with the original status. Releasing the key instead would run the mutation again on the
  retry; the marker keeps the promise that it runs once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra import idempotency_store
from infra.idempotency_store import MAX_KEPT_BYTES, Held, Kept, Refusal
from services import auth
from web.errors import error_body, error_bytes
from web.idempotent_requests import UnknownPersistedQuery, mutation_request
from web.media_type import wants_graphql_response
from web.persisted_queries import NOT_FOUND, PersistedQueries

logger = logging.getLogger("milestones.http")

HEADER = "idempotency-key"
# The draft leaves the bound to servers; Stripe's is 255 too.
MAX_KEY_LENGTH = 255
# Top-level errors a mutation that ran may answer with: its response is kept.
KEPT_ERROR_CODES = frozenset(
    {"UNAUTHENTICATED", "NOT_FOUND", "FORBIDDEN", "BAD_USER_INPUT", "RESPONSE_TOO_LARGE"}
)
# Past its time budget and this, a request's process is taken to have died: a retry runs.
HOLD_MARGIN_SECONDS = 60.0
# What a replay answers when the response was not kept (see `to_keep`).
NOT_KEPT = "IDEMPOTENT_RESPONSE_NOT_KEPT"
HELD_A_SECRET = (
    "This request ran once already. Its answer held a secret (a session token or a calendar "
    "feed URL), which the server never stores, so it is not replayed: send a new request, "
    "with a new Idempotency-Key, to get one."
)
TOO_LARGE_TO_KEEP = (
    "This request ran once already. Its answer was larger than the {limit} bytes the server "
    "keeps for replays, so it is not replayed: read what you need with a query, and use a "
    "new Idempotency-Key for a new request."
)
# Status, the contract's top-level error code and message of each refusal.
REFUSALS = {
    Refusal.IN_USE: (
        409,
        "IDEMPOTENCY_KEY_IN_USE",
        "A request with this Idempotency-Key is still running; retry it in a moment.",
    ),
    Refusal.REUSED: (
        422,
        "IDEMPOTENCY_KEY_REUSED",
        "This Idempotency-Key was used for another request; use a new key for a new request.",
    ),
}


class MalformedKey(ValueError):
    """The header is not a key this server accepts; the message says why."""


def parse_key(values: list[str]) -> str:
    """The key of the Idempotency-Key header values: a structured-field string
    (`"..."`, as the draft writes it) or, as Stripe's clients send it, the bare text."""
    if len(values) != 1:
        raise MalformedKey("Send one Idempotency-Key header, not several.")
    text = values[0].strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if not text:
        raise MalformedKey("The Idempotency-Key header is empty.")
    if len(text) > MAX_KEY_LENGTH:
        raise MalformedKey(f"The Idempotency-Key is longer than {MAX_KEY_LENGTH} characters.")
    if not all(" " <= c <= "~" for c in text):
        raise MalformedKey("The Idempotency-Key may only hold printable ASCII characters.")
    return text


def error_response(status: int, code: str, message: str) -> Kept:
    return Kept(status, "application/json", error_bytes(message, code))


def to_keep(response: Kept, *, secret: bool) -> Kept:
    """What to keep of the response of a mutation that ran: the response itself, or a
    marker when it may hold a secret or is larger than a row keeps. The marker still holds
    the key, so that a retry does not run the mutation a second time, and tells why."""
    if secret:
        message = HELD_A_SECRET
    elif len(response.body) > MAX_KEPT_BYTES:
        message = TOO_LARGE_TO_KEEP.format(limit=MAX_KEPT_BYTES)
    else:
        return response
    body = orjson.dumps({"data": None, **error_body(message, NOT_KEPT)})
    return Kept(response.status_code, response.content_type, body)


def persisted_query_not_found(accept: str | None) -> Kept:
    """The endpoint's own answer to a hash it does not hold (web/persisted_queries.py)."""
    response = error_response(200, NOT_FOUND, "PersistedQueryNotFound")
    if wants_graphql_response(accept):
        return Kept(400, "application/graphql-response+json", response.body)
    return response


def is_kept(status: int, body: bytes) -> bool:
    """Whether a response is the outcome of a mutation that ran (see the module's doc)."""
    if status != 200:
        return False
    try:
        errors = orjson.loads(body).get("errors") or []
    except (orjson.JSONDecodeError, AttributeError):
        return False
    return all(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") in KEPT_ERROR_CODES
        for e in errors
    )


@dataclass(slots=True)
class Captured:
    """The response the app sent, held back until it is kept."""

    status: int = 0
    headers: list[tuple[bytes, bytes]] | None = None
    body: bytes = b""

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status, self.headers = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    def kept(self) -> Kept:
        content_type = Headers(raw=self.headers or []).get("content-type", "")
        return Kept(self.status, content_type, self.body)

    async def replay(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})


async def send_response(send: Send, response: Kept, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [
        (b"content-type", response.content_type.encode()),
        (b"content-length", str(len(response.body)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


async def read_body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return body
        body += message.get("body", b"")
        if not message.get("more_body", False):
            return body


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body already read, then the connection's events."""
    sent = False

    async def receive_again() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive_again


class IdempotentMutations:
    """ASGI wrapper of the GraphQL endpoint that honours Idempotency-Key (see above)."""

    def __init__(
        self, app: ASGIApp, *, request_seconds: float, documents: PersistedQueries
    ) -> None:
        self.app = app
        # The endpoint's persisted queries: a request may name its document by hash alone.
        self.documents = documents
        # How long a running request holds its key before it counts as abandoned: its time
        # budget (REQUEST_TIMEOUT_SECONDS) and a margin.
        self.hold = timedelta(seconds=request_seconds + HOLD_MARGIN_SECONDS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        values = headers.getlist(HEADER)
        if scope["type"] != "http" or scope["method"] != "POST" or not values:
            await self.app(scope, receive, send)
            return
        try:
            key = parse_key(values)
        except MalformedKey as e:
            await send_response(send, error_response(400, "BAD_REQUEST", str(e)), [])
            return
        body = await read_body(receive)
        receive = replaying(body, receive)
        request = mutation_request(body, self.documents)
        token = auth.bearer_token(headers.get("authorization"))
        viewer = await auth.user_for_token(token) if request is not None and token else None
        if request is None or viewer is None:
            await self.app(scope, receive, send)
            return
        if isinstance(request, UnknownPersistedQuery):
            # Answered here: were the document stored meanwhile, the endpoint would run the
            # mutation without its key. The client sends the document, and its key, again.
            await send_response(send, persisted_query_not_found(headers.get("accept")), [])
            return
        claimed = await idempotency_store.claim(viewer.id, key, request.canonical, self.hold)
        if isinstance(claimed, Held):
            await self._run(claimed, request.secret, scope, receive, send)
        elif isinstance(claimed, Kept):
            await send_response(send, claimed, [(b"idempotent-replayed", b"true")])
        else:
            status, code, message = REFUSALS[claimed]
            extra = [(b"retry-after", b"1")] if claimed is Refusal.IN_USE else []
            await send_response(send, error_response(status, code, message), extra)

    async def _run(
        self, held: Held, secret: bool, scope: Scope, receive: Receive, send: Send
    ) -> None:
        captured = Captured()
        try:
            await self.app(scope, receive, captured.send)
        except BaseException:
            # A crash or a cancellation: nothing to keep, and the key is free again (if this
            # fails too, the hold runs out on its own).
            await _release_quietly(held)
            raise
        response = captured.kept()
        try:
            if is_kept(response.status_code, response.body):
                await idempotency_store.keep(held, to_keep(response, secret=secret))
            else:
                await idempotency_store.release(held)
        except Exception:
            # The mutation is done: its client gets its answer. The key stays held until
            # the hold runs out; a retry meanwhile is told the key is in use.
            logger.exception("could not record the outcome of an idempotent request")
        await captured.replay(send)


async def _release_quietly(held: Held) -> None:
    try:
        await idempotency_store.release(held)
    except Exception:  # the database may be what failed; the hold runs out anyway
        logger.exception("could not release an idempotency key")
