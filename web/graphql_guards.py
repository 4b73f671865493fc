"""The HTTP side of /graphql answers bad input with a clear 4xx, and bounds each operation's time.

- A body that is not JSON, is nested too deeply to decode, or holds a lone UTF-16
  surrogate (`"\\ud800"`: valid JSON syntax, but no text, which nothing downstream can
  encode) gets 400 naming the problem. The same decoding serves GET's `variables` and
  `extensions` and WebSocket messages, where strawberry closes the socket with 4400 as for
  any message that is not JSON.
- A request's fields are checked where it is read: `query` and `operationName` strings or
  null, `variables` and `extensions` objects or null (`field_problem`), for POST bodies, GET
  parameters and WebSocket `subscribe` messages alike (`message_problem`, web/graphql_ws.py).
  Nothing of the wrong type reaches graphql-core, whose errors would speak Python.
- A subscription sent by POST or GET gets 400 pointing to the WebSocket endpoint; a
  mutation sent by GET gets 405 with `Allow: POST` (GraphQL over HTTP: a MUST).
- Every refusal strawberry makes (wrong method, content type, ...) is JSON, in the shape of
  a GraphQL error, with an `extensions.code`.
- An operation that runs longer than its time budget is cancelled and answered with a
  TIMEOUT error. The budget covers parsing, validating and executing the operation (the
  server's own work), not receiving the body, which MAX_BODY_BYTES bounds. Subscriptions
  over WebSocket live as long as they are wanted and are not subject to it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from frameworks.strawberry import CannotGetOperationTypeError, InvalidOperationTypeError
from schema.context import Context
from web import errors

logger = logging.getLogger("milestones.http")

USE_WEBSOCKET = (
    "Subscriptions are not served over HTTP: open a WebSocket to this same URL with the "
    "graphql-transport-ws subprotocol."
)
# What HTTP may carry: subscriptions need a WebSocket, and GET must not change anything.
HTTP_OPERATIONS = {
    "GET": frozenset({OperationType.QUERY}),
    "POST": frozenset({OperationType.QUERY, OperationType.MUTATION}),
}
MUTATION_BY_GET = "A mutation changes data: send it by POST; GET only serves queries."
# The `extensions.code` of each refusal, by HTTP status.
REFUSAL_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
# The fields of a GraphQL request (GraphQL over HTTP), and what each may hold besides null.
REQUEST_FIELDS = (
    ("query", str, "a string"),
    ("operationName", str, "a string"),
    ("variables", dict, "an object"),
    ("extensions", dict, "an object"),
)


class TooDeeplyNested(json.JSONDecodeError):
    """JSON nested deeper than the decoder's recursion allows.

    A JSONDecodeError, so that every caller that handles JSON it cannot read (strawberry's
    WebSocket handlers among them) handles this one the same way.
    """

    def __init__(self) -> None:
        super().__init__("nested too deeply", "", 0)


class LoneSurrogate(json.JSONDecodeError):
    """A string escape, or UTF-8 bytes, naming half of a UTF-16 surrogate pair."""

    def __init__(self) -> None:
        super().__init__("lone surrogate", "", 0)


class PostOnly(HTTPException):
    """A mutation by GET: 405, and the method that would do."""

    allow = "POST"

    def __init__(self) -> None:
        super().__init__(405, MUTATION_BY_GET)


def field_problem(request: Mapping[str, object]) -> str | None:
    """What is wrong with the types of a GraphQL request's fields, if anything."""
    for name, kind, expected in REQUEST_FIELDS:
        value = request.get(name)
        if value is not None and not isinstance(value, kind):
            return f"The request's `{name}` must be {expected} or null."
    return None


def refusal(status: int, message: str, allow: str | None = None) -> Response:
    """An HTTP error response with one GraphQL error, its code the status's."""
    code = REFUSAL_CODES.get(status, "BAD_REQUEST")
    return errors.refusal(status, message, code, headers={"Allow": allow} if allow else None)


def timed_out(budget: float) -> ExecutionResult:
    message = f"The operation took longer than {budget:g} s and was stopped."
    return ExecutionResult(
        data=None, errors=[GraphQLError(message, extensions={"code": "TIMEOUT"})]
    )


class ShortReasons(ASGIWebSocketAdapter):
    """Close reasons cut to what a close frame holds: 123 bytes of UTF-8 (RFC 6455, 5.5).

    strawberry builds some from the client's own text (an unknown message type, an operation
    id already in use); one too long made the close itself fail, with a traceback.
    """

    async def close(self, code: int, reason: str) -> None:
        encoded = reason.encode()
        if len(encoded) > 123:
            reason = encoded[:120].decode(errors="ignore") + "…"  # 3 bytes
        await super().close(code, reason)


class GuardedGraphQL(GraphQL[Context, None]):
    """strawberry's ASGI view, with the refusals and the time budget described above."""

    websocket_adapter_class = ShortReasons

    def __init__(self, *args: Any, request_timeout_seconds: float, **options: Any) -> None:
        super().__init__(*args, **options)
        self.request_timeout_seconds = request_timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        response: Response
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as e:
            # strawberry answers these in plain text; clients expect JSON from this URL.
            response = refusal(e.status_code, e.reason, getattr(e, "allow", None))
        await response(scope, receive, send)

    def encode_json(self, data: object) -> str:
        # orjson: a tenth of the json module's time on a page of milestones. Text, not
        # bytes: WebSocket messages are encoded here too, and must go out as text frames.
        return orjson.dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        # orjson: strict where the json module is lenient (lone surrogates, NaN), with a
        # depth limit of its own (1,024) instead of a RecursionError, and a few times faster.
        # Its errors are told apart by their wording (orjson 3.13; the tests replay both); were that to
        # change, both would still be refused as "not valid JSON".
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as e:
            if "surrogate" in e.msg:
                raise LoneSurrogate from None
            if "depth" in e.msg or "recursion" in e.msg:
                raise TooDeeplyNested from None
            raise

    def parse_json(self, data: str | bytes) -> Any:
        try:
            value = self.decode_json(data)
        except TooDeeplyNested:
            raise HTTPException(400, "The request body is JSON nested too deeply.") from None
        except LoneSurrogate:
            raise HTTPException(
                400,
                "The request holds a lone UTF-16 surrogate (such as \\ud800 without its pair), "
                "which is not text.",
            ) from None
        except json.JSONDecodeError as e:
            reason = (
                f"The request body is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}."
            )
            raise HTTPException(400, reason) from None
        if not isinstance(value, (dict, list)):
            raise HTTPException(400, "The request body must be a JSON object.")
        return value

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        if isinstance(data, GraphQLRequestData):  # batches are off: strawberry refuses lists
            problem = field_problem(
                {
                    "query": data.query,
                    "operationName": data.operation_name,
                    "variables": data.variables,
                    "extensions": data.extensions,
                }
            )
            if problem:
                raise HTTPException(400, problem)
        return data

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> Any:
        budget = self.request_timeout_seconds
        timer = asyncio.timeout(budget)
        try:
            async with timer:
                return await super().execute_operation(
                    request, request_adapter, request_data, context, root_value, sub_response
                )
        except TimeoutError:
            if not timer.expired():
                raise  # not ours: some other wait gave up
            name = (
                request_data.operation_name
                if isinstance(request_data, GraphQLRequestData)
                else None
            )
            # %r: the name is the client's text, unchecked yet; it must not forge log lines.
            logger.warning("operation %r stopped after its %g s budget", name, budget)
            return timed_out(budget)

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        # strawberry's own, except for the operations HTTP may carry (HTTP_OPERATIONS).
        method = request_adapter.method
        try:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=HTTP_OPERATIONS.get(method, frozenset()),
                operation_extensions=request_data.extensions,
            )
        except InvalidOperationTypeError as e:
            if e.operation_type is OperationType.SUBSCRIPTION:
                raise HTTPException(400, USE_WEBSOCKET) from None
            if method == "GET":
                raise PostOnly from None
            raise HTTPException(400, e.as_http_error_reason(method)) from None
        except CannotGetOperationTypeError as e:
            raise HTTPException(400, e.as_http_error_reason()) from None
        except MissingQueryError:
            raise HTTPException(400, "No GraphQL query found in the request.") from None
