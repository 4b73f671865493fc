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
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLObjectType, Undefined
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path

from schema.plain_leaves import PlainLeaf, PlainLeaves, read_plain_leaf
from schema.visibility import VisibilityExecutor

_PLAIN_LEAVES = PlainLeaves()


class ApiExecutor(VisibilityExecutor):
    # Per executor: the plans of each field set met, keyed by its identity. The set is
    # kept beside its plans, so that its identity cannot be reused while this lives.
    _object_plans: dict[int, tuple[GroupedFieldSet, list[tuple[str, PlainLeaf]] | None]]

    def _plain(self) -> bool:
        # Middleware sees every field resolve; with any, every field takes the full path.
        middleware = self.middleware_manager
        return middleware is None or not middleware.middlewares

    def _object_plan(
        self, parent_type: GraphQLObjectType, fields: GroupedFieldSet
    ) -> list[tuple[str, PlainLeaf]] | None:
        """(response name, plan) of every field, or None unless all are plain leaves."""
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
            found = plans[id(fields)] = (fields, plan)
        return found[1]

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
        if self._plain():
            plan = self._object_plan(parent_type, grouped_field_set)
            if plan is not None:
                results = {}
                for response_name, leaf in plan:
                    value = read_plain_leaf(leaf, source_value)
                    if value is Undefined:
                        break  # an error to report: the full path reports it, located
                    results[response_name] = value
                else:
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
        if self._plain():
            leaf = self._leaf_plan(parent_type, field_details_list)
            if leaf is not None:
                value = read_plain_leaf(leaf, source)
                if value is not Undefined:
                    return value
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        if isinstance(executor, ApiExecutor):
            executor._object_plans = {}  # keyed by the identity of the memo's field sets
        return executor
