"""A document of several operations runs only the one `operationName` names.

The GraphQL spec (GetOperation): "If operationName is null: if document contains exactly
one operation, return it; otherwise raise a request error requiring operationName."
strawberry's ExecutionContext.operation_name falls back to the first operation's name when
the request names none, and hands that name to graphql-core, which then runs the first
operation: `mutation A {...} query B {...}` sent without `operationName` ran mutation A,
and the Idempotency-Key layer, which follows the spec, took it for no mutation at all.

This extension refuses such a request during validation, on every path that runs a
document (POST, GET, WebSocket subscribe), with BAD_REQUEST: nothing executes.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from frameworks.strawberry import provided_operation_name

CODE = "BAD_REQUEST"
MESSAGE = (
    "Must provide operation name if query contains multiple operations: send "
    "`operationName` naming the one to run."
)


class OneOperationOrItsName(SchemaExtension):
    """Refuses a document of several operations sent without `operationName`.

    List it after the extension that validates (which sets the errors afresh) and before
    the cost limit, which then has nothing to count.
    """

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        document = execution.graphql_document
        if (
            not execution.pre_execution_errors
            and document is not None
            and provided_operation_name(execution) is None
            and sum(isinstance(d, OperationDefinitionNode) for d in document.definitions) > 1
        ):
            error = GraphQLError(MESSAGE, extensions={"code": CODE})
            execution.pre_execution_errors = [error]
        yield
