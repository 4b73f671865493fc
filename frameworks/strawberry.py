"""What of strawberry the API relies on beyond its published API.

The graphql-transport-ws handler (web/graphql_ws.py) subclasses strawberry's
`BaseGraphQLTransportWSHandler` (which a view names in `graphql_transport_ws_handler_class`)
and extends its message handlers (`handle_connection_init`, `handle_message`,
`handle_subscribe`, `run_operation`, `cleanup_operation`, `shutdown`), each calling
strawberry's own; what else of the handler it reaches goes through this module.

All of it tested with strawberry-graphql 0.341 (`frameworks.fast_paths.STRAWBERRY`).
What strawberry publishes (`strawberry.resolvers.is_default_resolver`, `BaseSchema`,
`SchemaExtension`, `ExecutionContext`'s public fields) is used where it is needed instead.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLField, GraphQLSchema, ValidationRule

# The refusals `strawberry.Schema` raises for an operation it cannot run (a document with
# no such operation, a type not allowed on this path), which the HTTP view answers as
# strawberry's own view does. Not exported by `strawberry.schema`; both there in 0.300 to
# 0.341.
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

# strawberry's subclass of graphql-core's executor, which its Schema runs when none is given
# (`strawberry.Schema(execution_context_class=...)` is published, this base is not; there in
# 0.300 to 0.341, absent in 0.250). It builds strawberry's resolve info (operation
# extensions): a replacement must subclass it. A move breaks the import here, at start.
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

# Where a field's graphql-core definition keeps the strawberry field it was made from (a
# class constant, "strawberry-definition", in 0.250 to 0.341). If it changes,
# `strawberry_field` finds nothing and no field takes the plain-leaf fast path: slower, and
# still right.
from strawberry.schema.schema_converter import GraphQLCoreConverter

# The rules strawberry adds to graphql-core's when it validates (both in 0.300 to 0.341;
# 0.250 had only the one-of rule): a schema extension that validates in its place
# (schema.visibility) must run them too, or `@oneOf` inputs and `Maybe` arguments go
# unchecked.
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types import ExecutionContext
from strawberry.types.field import StrawberryField

from frameworks.fast_paths import LIVE_OPERATIONS

__all__ = [
    "STRAWBERRY_VALIDATION_RULES",
    "CannotGetOperationTypeError",
    "InvalidOperationTypeError",
    "StrawberryGraphQLCoreExecutionContext",
]

STRAWBERRY_VALIDATION_RULES: tuple[type[ValidationRule], ...] = (
    MaybeNullValidationRule,
    OneOfInputValidationRule,
)


def graphql_core_schema(schema: Any) -> GraphQLSchema:
    """The graphql-core schema a strawberry schema serves: `Schema._schema` (every release
    so far). Validation, cost and the Idempotency-Key layer walk documents against it; if it
    goes, they fail at once (every test does)."""
    return schema._schema  # type: ignore[no-any-return]


def strawberry_field(field_def: GraphQLField) -> StrawberryField | None:
    """The strawberry field `field_def` was made from, None if none (see the import)."""
    found = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    return found if isinstance(found, StrawberryField) else None


def provided_operation_name(execution: ExecutionContext) -> str | None:
    """The operation name the request gave, None if it gave none.

    strawberry keeps it only as `_provided_operation_name` (set by ExecutionContext's
    __post_init__, 0.250 to 0.341; its public `operation_name` falls back to the
    document's first operation). If it goes, this raises AttributeError on every
    operation, which every test catches (tests/test_unit_operation_choice.py first).
    """
    return execution._provided_operation_name


def forget_connection_init(handler: Any) -> None:
    """Drop what a graphql-transport-ws connection keeps of its `connection_init` once it is
    answered: the payload (`context.connection_params`) and the timer task waiting for it
    (`connection_init_timeout_task`, done by then), both attributes of strawberry's
    `BaseGraphQLTransportWSHandler` (0.250 to 0.341) that idle sockets otherwise hold for
    their life. If renamed, the new ones would simply be kept (more memory per socket)."""
    handler.context.connection_params = {}
    handler.connection_init_timeout_task = None


# The table of a graphql-transport-ws connection's operations. strawberry's handler
# (`BaseGraphQLTransportWSHandler.operations`, 0.250 to 0.341) keeps a dict of operation
# id -> `Operation`, and reads it for the per-connection limit, a repeated id (4409),
# `complete` from the client, and its shutdown, which reads each entry's `task` and calls
# `cleanup_operation` for each id. An operation whose stream ended sends `complete` unless
# its `completed` is set. The LIVE_OPERATIONS fast path puts a record of ours (with `id`
# and `task = None`) in the place of an operation whose stream has ended, so that a live
# subscription keeps its place in the table without a task or a generator. Should the
# table change, records would be cancelled as tasks or never found: the version check
# turns the fast path off, and each operation then stays strawberry's own, its task waiting
# until the subscription ends.


def operation_ids(handler: Any) -> list[str]:
    """The ids of the connection's operations (strawberry's, and records in their place)."""
    return list(handler.operations)


def runs_operation(handler: Any, operation_id: str) -> bool:
    return operation_id in handler.operations


def take_over(handler: Any, operation_id: str, record: Any) -> bool:
    """Put `record` in the place of the operation `operation_id`, whose stream then ends
    without `complete`; False (nothing done) with LIVE_OPERATIONS off."""
    if not LIVE_OPERATIONS.on:
        return False
    operation = handler.operations.get(operation_id)
    if operation is None:
        return False
    operation.completed = True
    handler.operations[operation_id] = record
    LIVE_OPERATIONS.runs += 1
    return True


def holds(handler: Any, operation_id: str, record: Any) -> bool:
    """Whether `record` is in the table in the place of `operation_id`."""
    return handler.operations.get(operation_id) is record


def held(handler: Any, operation_id: str, kind: type) -> Any:
    """The record of `kind` in the place of `operation_id`, None if none."""
    found = handler.operations.get(operation_id)
    return found if isinstance(found, kind) else None


def records(handler: Any, kind: type) -> list[Any]:
    """Every record of `kind` in the table."""
    return [o for o in handler.operations.values() if isinstance(o, kind)]


def only_records(handler: Any, kind: type) -> bool:
    """Whether every entry of the table is a record of `kind` (no operation runs)."""
    return all(isinstance(o, kind) for o in handler.operations.values())


def release(handler: Any, operation_id: str) -> None:
    """Take the record (or operation) `operation_id` out of the table, sending nothing."""
    handler.operations.pop(operation_id, None)


def stop(handler: Any, operation_id: str) -> None:
    """End strawberry's operation `operation_id` without a `complete` from strawberry: out of
    the table, its task cancelled (what `cleanup_operation` does, callable without await)."""
    operation = handler.operations.pop(operation_id, None)
    task = getattr(operation, "task", None)
    if task is not None:
        task.cancel()
