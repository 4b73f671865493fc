"""Each operation counted and timed once, and named in the logs of its request.

One timer per operation, no per-field work: the read path must stay fast. The operation
name is client text, so it becomes a metrics label only through `OperationNames`: a name
earns one of MAX_OPERATION_NAMES slots by running without error (junk names, invalid
documents and failing operations earn none, so sending them cannot fill the slots), keeps
it while it is used, and a slot unused for LABEL_IDLE_SECONDS goes to the next name that
earns one when all are taken (its series are dropped). Any other operation is counted as
"other" (an unnamed one as "anonymous"). The logs get the name too (shortened), with the
viewer's id, through `infra/request_context.py`.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from infra import clock, metrics, request_context
from schema.context import Context

# Distinct operation names the metrics keep; a well-behaved client fleet sends a few
# dozen. Past this, a client making up names cannot grow the series without bound.
MAX_OPERATION_NAMES = 200
# A name unused this long gives its slot to a new name once all are taken: long enough that
# a real operation used now and then keeps its series, short enough that names sent once
# by a script (succeeding ones still earn slots) are gone within the hour.
LABEL_IDLE_SECONDS = 3600.0
# Longest operation name kept, in the metrics and in the logs.
MAX_NAME_LENGTH = 100
OTHER = "other"
ANONYMOUS = "anonymous"
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")


class OperationNames:
    """The operation names metrics may use as labels: bounded in number and length, earned
    by running without error, and given back after LABEL_IDLE_SECONDS unused."""

    def __init__(
        self, limit: int = MAX_OPERATION_NAMES, idle_seconds: float = LABEL_IDLE_SECONDS
    ) -> None:
        self.limit = limit
        self.idle_seconds = idle_seconds
        # Name -> when it was last counted (infra/clock.py), least recently used first.
        self.last_used: OrderedDict[str, float] = OrderedDict()

    def label(self, name: str | None, *, earned: bool, now: float) -> str:
        """The label to count an operation `name` under; `earned`: it ran without error."""
        if not name:
            return ANONYMOUS
        if name in self.last_used:
            self.last_used[name] = now
            self.last_used.move_to_end(name)
            return name
        if not earned or len(name) > MAX_NAME_LENGTH:
            return OTHER
        if len(self.last_used) >= self.limit:
            oldest, used = next(iter(self.last_used.items()))
            if now - used < self.idle_seconds:
                return OTHER
            del self.last_used[oldest]
            metrics.forget_operation(oldest)
        self.last_used[name] = now
        return name


operation_names = OperationNames()


def error_code(error: GraphQLError) -> str:
    code = (error.extensions or {}).get("code")
    if code is None:
        return "NONE"
    return code if isinstance(code, str) and _CODE.fullmatch(code) else OTHER


def count_errors(errors: Sequence[GraphQLError] | None) -> None:
    for error in errors or ():
        metrics.ERRORS.labels(error_code(error)).inc()


class Observed(SchemaExtension):
    """Counts, times and names every operation (HTTP and WebSocket)."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        context = self.execution_context.context
        if isinstance(context, Context) and context.viewer is not None:
            request_context.user_id.set(context.viewer.id)
        provided = self.execution_context.operation_name
        if provided:
            request_context.operation_name.set(provided[:MAX_NAME_LENGTH])
        yield
        self._record(time.perf_counter() - started)

    def _record(self, seconds: float) -> None:
        execution = self.execution_context
        result = execution.result
        # Not parsed, or refused by validation (or the cost limit): not run at all.
        refused = execution.graphql_document is None or isinstance(result, PreExecutionError)
        if refused:
            name, kind, outcome = OTHER, "unknown", "invalid"
            count_errors(result.errors if result is not None else None)
        else:
            try:
                operation_type = execution.operation_type
            except RuntimeError:  # the named operation is not in the document
                operation_type = None
            kind = operation_type.value if operation_type else "unknown"
            # No result: an exception ended it (strawberry answers with an error).
            errors = result.errors if result is not None else None
            outcome = "error" if errors or result is None else "ok"
            name = operation_names.label(
                execution.operation_name, earned=outcome == "ok", now=clock.now().timestamp()
            )
            count_errors(errors)
            if actual := execution.operation_name:
                request_context.operation_name.set(actual[:MAX_NAME_LENGTH])
        metrics.OPERATIONS.labels(name, kind, outcome).inc()
        if kind == OperationType.SUBSCRIPTION.value:
            return  # it lasted as long as the subscription: not a latency
        request_context.duration.set(seconds)
        if not refused:
            metrics.OPERATION_SECONDS.labels(name, kind).observe(seconds)
