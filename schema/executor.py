"""The executor every operation runs with: strawberry's, plus the API's adjustments.

- Suggestions are hidden from variable coercion errors for callers who may not see the
  schema (`schema.visibility.VisibilityExecutor`).
- Plain scalar fields are read without the per-field machinery only resolvers need, and an
  object made of nothing else (a milestone in a list, say) is read in one go
  (`schema.plain_leaves`).
- Each subscription event gets its own subfield memo. graphql-core memoizes the subfields
  of a field by the identity of its field list and keeps each list alive beside the entry;
  its per-event copies share the subscription's memo, and every event brings new lists, so
  a long-lived subscription's memo grew with every event it delivered (the soak run,
  docs/performance.md, measured about 3 MiB a minute with 500 subscribers). Within one
  event the memo still serves the lists of every item.
- Each operation (and each subscription event) has a response budget, MAX_RESPONSE_BYTES,
  counted as its result is built (`schema.response_budget`): once spent, no further field
  below the root is resolved, and the answer is one RESPONSE_TOO_LARGE error. Root fields
  still run, so that every mutation of a document runs whatever its payload's size.
"""

from __future__ import annotations

from typing import Any, ClassVar

from graphql import (
    ExecutionResult,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLOutputType,
    Undefined,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path

from schema.plain_leaves import PlainLeaf, PlainLeaves, read_plain_leaf
from schema.response_budget import (
    DEFAULT_MAX_RESPONSE_BYTES,
    ERROR_BYTES,
    FIELD_BYTES,
    response_too_large,
    value_bytes,
)
from schema.visibility import VisibilityExecutor

_PLAIN_LEAVES = PlainLeaves()


def limit_response_bytes(limit: int) -> None:
    """Set every operation's response budget (MAX_RESPONSE_BYTES), once, at start-up."""
    ApiExecutor.max_response_bytes = limit


class ApiExecutor(VisibilityExecutor):
    max_response_bytes: ClassVar[int] = DEFAULT_MAX_RESPONSE_BYTES
    # Bytes of this operation's (or event's) response counted so far: a running total, so
    # that counting allocates nothing per field.
    _response_bytes: int = 0
    # Per executor: the plans of each field set met, keyed by its identity, and the bytes
    # of their names. The set is kept beside its plans, so that its identity cannot be
    # reused while this lives.
    _object_plans: dict[int, tuple[GroupedFieldSet, list[tuple[str, PlainLeaf]] | None, int]]
    # Reads this operation (or event) took the short way, a whole object or one field at
    # a time: what shows that the short way was taken at all.
    plain_reads: int = 0

    def _plain(self) -> bool:
        # Middleware sees every field resolve; with any, every field takes the full path.
        middleware = self.middleware_manager
        return middleware is None or not middleware.middlewares

    def _object_plan(
        self, parent_type: GraphQLObjectType, fields: GroupedFieldSet
    ) -> tuple[GroupedFieldSet, list[tuple[str, PlainLeaf]] | None, int]:
        """The field set; (response name, plan) of every field, or None unless all are plain
        leaves; and the bytes the fields' names take in the response."""
        try:
            plans = self._object_plans
        except AttributeError:
            plans = self._object_plans = {}
        found = plans.get(id(fields))
        if found is None:
            plan: list[tuple[str, PlainLeaf]] | None = []
            for response_name, details in fields.items():
                leaf = self._leaf_plan(parent_type, details)
                if leaf is None or plan is None:
                    plan = None
                    break
                plan.append((response_name, leaf))
            names = sum(len(name) + FIELD_BYTES for name in fields)
            found = plans[id(fields)] = (fields, plan, names)
        return found  # kept as is: no tuple made per object

    def _leaf_plan(
        self, parent_type: GraphQLObjectType, details: FieldDetailsList
    ) -> PlainLeaf | None:
        name = details[0].node.name.value
        return _PLAIN_LEAVES.plan(parent_type, self.schema.get_field(parent_type, name), name)

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        spent = self._response_bytes
        if spent > self.max_response_bytes and path is not None:
            return {}  # over budget: resolve nothing more (build_response answers)
        if self._plain():
            _, plan, names = self._object_plan(parent_type, grouped_field_set)
            if plan is not None:
                results = {}
                spent += names
                for response_name, leaf in plan:
                    value = read_plain_leaf(leaf, source_value)
                    if value is Undefined:
                        break  # an error to report: the full path reports it, located
                    results[response_name] = value
                    # value_bytes(), inlined for the common case: this loop is the read path.
                    if value.__class__ is str and value.isascii():
                        spent += len(value) + 2
                    else:
                        spent += value_bytes(value)
                else:
                    self._response_bytes = spent
                    self.plain_reads += 1
                    return results
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        spent = self._response_bytes
        if spent > self.max_response_bytes and path.prev is not None:
            return None  # over budget: resolve nothing more below the root
        self._response_bytes = spent + len(path.key) + FIELD_BYTES  # type: ignore[arg-type]  # a field's key is its response name
        if self._plain():
            leaf = self._leaf_plan(parent_type, field_details_list)
            if leaf is not None:
                value = read_plain_leaf(leaf, source)
                if value is not Undefined:
                    self._response_bytes += value_bytes(value)
                    self.plain_reads += 1
                    return value
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def complete_leaf_value(self, return_type: GraphQLLeafType, result: Any) -> Any:  # type: ignore[override]  # graphql-core's is static; this one counts
        value = super().complete_leaf_value(return_type, result)
        self._response_bytes += value_bytes(value)
        return value

    def handle_field_error(
        self,
        raw_error: Exception,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> None:
        self._response_bytes += ERROR_BYTES + len(str(raw_error))
        super().handle_field_error(raw_error, return_type, field_details_list, path)

    def build_response(self, data: dict[str, Any] | None) -> Any:
        result = super().build_response(data)
        if self._response_bytes > self.max_response_bytes:
            error = response_too_large(self.operation.operation, self.max_response_bytes)
            return ExecutionResult(None, [error])
        return result

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        if isinstance(executor, ApiExecutor):
            executor._object_plans = {}  # keyed by the identity of the memo's field sets
            executor._response_bytes = 0  # each event has a budget of its own
        return executor
