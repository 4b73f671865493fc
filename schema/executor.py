"""The executor every operation runs with: strawberry's, plus the API's adjustments.

- Suggestions are hidden from variable coercion errors for callers who may not see the
  schema (`schema.visibility.VisibilityExecutor`).
- Plain scalar fields are read without the per-field machinery only resolvers need
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
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path

from schema.plain_leaves import PlainLeaves, read_plain_leaf
from schema.visibility import VisibilityExecutor

_PLAIN_LEAVES = PlainLeaves()


class ApiExecutor(VisibilityExecutor):
    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        middleware = self.middleware_manager
        if middleware is None or not middleware.middlewares:
            name = field_details_list[0].node.name.value
            field_def = self.schema.get_field(parent_type, name)
            plan = _PLAIN_LEAVES.plan(parent_type, field_def, name)
            if plan is not None:
                value = read_plain_leaf(plan, source)
                if value is not Undefined:
                    return value
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        return executor
