"""The executor every operation runs with: strawberry's, plus the API's adjustments.

graphql-core's steps it hooks into are the private ones `frameworks.graphql_core.FieldHooks`
overrides; this module fills in the hooks.

- Suggestions are hidden from variable coercion errors for callers who may not see the
  schema (`schema.visibility.VisibilityExecutor`).
- Plain scalar fields are read without the per-field machinery only resolvers need, and an
  object made of nothing else (a milestone in a list, say) is read in one go
  (`schema.plain_leaves`): the PLAIN_LEAVES fast path, off outside the tested releases.
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

from graphql import ExecutionResult, GraphQLObjectType, Undefined
from graphql.pyutils import Path

from frameworks.fast_paths import PLAIN_LEAVES
from frameworks.graphql_core import FieldDetailsList, FieldHooks, GroupedFieldSet
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


class ApiExecutor(FieldHooks, VisibilityExecutor):
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
        return PLAIN_LEAVES.on and (middleware is None or not middleware.middlewares)

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

    def shortcut_fields(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        path: Path | None,
        fields: GroupedFieldSet,
    ) -> dict[str, Any] | None:
        spent = self._response_bytes
        if spent > self.max_response_bytes and path is not None:
            return {}  # over budget: resolve nothing more (build_response answers)
        if not self._plain():
            return None
        _, plan, names = self._object_plan(parent_type, fields)
        if plan is None:
            return None
        results = {}
        spent += names
        for response_name, leaf in plan:
            value = read_plain_leaf(leaf, source)
            if value is Undefined:
                return None  # an error to report: the full path reports it, located
            results[response_name] = value
            # value_bytes(), inlined for the common case: this loop is the read path.
            if value.__class__ is str and value.isascii():
                spent += len(value) + 2
            else:
                spent += value_bytes(value)
        self._response_bytes = spent
        self.plain_reads += 1
        PLAIN_LEAVES.runs += 1
        return results

    def shortcut_field(
        self, parent_type: GraphQLObjectType, source: Any, details: FieldDetailsList, path: Path
    ) -> Any:
        spent = self._response_bytes
        if spent > self.max_response_bytes and path.prev is not None:
            return None  # over budget: resolve nothing more below the root
        self._response_bytes = spent + len(path.key) + FIELD_BYTES  # type: ignore[arg-type]  # a field's key is its response name
        if self._plain():
            leaf = self._leaf_plan(parent_type, details)
            if leaf is not None:
                value = read_plain_leaf(leaf, source)
                if value is not Undefined:
                    self._response_bytes += value_bytes(value)
                    self.plain_reads += 1
                    return value
        return Undefined

    def leaf_completed(self, value: Any) -> None:
        self._response_bytes += value_bytes(value)

    def field_failed(self, error: Exception) -> None:
        self._response_bytes += ERROR_BYTES + len(str(error))

    def response_built(self, result: Any) -> Any:
        if self._response_bytes > self.max_response_bytes:
            error = response_too_large(self.operation.operation, self.max_response_bytes)
            return ExecutionResult(None, [error])
        return result

    def event_executor(self, executor: Any) -> None:
        executor._object_plans = {}  # keyed by the identity of the memo's field sets
        executor._response_bytes = 0  # each event has a budget of its own
