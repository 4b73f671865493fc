"""What of graphql-core's executor the API relies on beyond its published API.

graphql-core publishes `Executor` as the class to pass to `execute` (strawberry
passes its subclass), but the methods a subclass overrides below are marked
`:meta private:` in its source: their names, arguments and call order may change in any
minor release. The executor the API runs (`schema.executor.ApiExecutor`) overrides none
of them itself: it subclasses `FieldHooks` and fills in the hooks, so that this module is
the one place that knows how graphql-core calls them.

All of it tested with graphql-core 3.3 (`frameworks.fast_paths.GRAPHQL_CORE`).
"""

from __future__ import annotations

from typing import Any

from graphql import Executor, GraphQLLeafType, GraphQLObjectType, GraphQLOutputType

# `graphql.execution.collect_fields` is not exported from `graphql.execution`: these are the
# shapes of a selection as the executor hands them on (since 3.3: a list of FieldDetails
# per response name, where 3.2 had FieldNodes). A rename breaks the import here, at start.
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path, Undefined

from frameworks.fast_paths import EVENT_MEMO

__all__ = ["FieldDetailsList", "FieldHooks", "GroupedFieldSet"]


class FieldHooks(Executor[Any]):
    """graphql-core's executor, calling a hook around each of the private steps it overrides.

    - `execute_fields` (private; every object's selection, the root's included):
      `shortcut_fields` may return the object's result (a dict) in its place; None lets
      graphql-core resolve it.
    - `execute_field` (private; every field not shortcut above): `shortcut_field` may return
      the field's completed value; `Undefined` lets graphql-core resolve it.
    - `complete_leaf_value` (a private static method graphql-core calls as
      `self.complete_leaf_value(...)`): `leaf_completed` sees each serialized scalar.
    - `handle_field_error` (private): `field_failed` sees each error a field raises.
    - `build_response` (private): `response_built` may put another result in the place of
      the one built from the completed data.
    - `build_per_event_executor` (3.3; 3.2 had no such step): a subscription's executor
      for one event. graphql-core memoizes subfields in `_relevant_sub_fields`, keyed by
      the identity of field lists every event makes anew and shared by every event's copy:
      a long subscription's memo grows with every event. With EVENT_MEMO on, each event
      gets a memo of its own. If the attribute is renamed, the new one simply goes unused
      (the memo may grow again, nothing breaks): the version check turns EVENT_MEMO off
      outside the tested releases. `event_executor` then sees the copy.

    If graphql-core stops calling a method, its hook stops running: answers stay right,
    but the response budget (schema.response_budget) and the plain leaves stop counting,
    which tests/test_unit_executor.py and tests/test_unit_response_budget.py catch.
    """

    def shortcut_fields(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        path: Path | None,
        fields: GroupedFieldSet,
    ) -> dict[str, Any] | None:
        return None

    def shortcut_field(
        self, parent_type: GraphQLObjectType, source: Any, details: FieldDetailsList, path: Path
    ) -> Any:
        return Undefined

    def leaf_completed(self, value: Any) -> None:
        pass

    def field_failed(self, error: Exception) -> None:
        pass

    def response_built(self, result: Any) -> Any:
        return result

    def event_executor(self, executor: Any) -> None:
        pass

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        found = self.shortcut_fields(parent_type, source_value, path, grouped_field_set)
        if found is not None:
            return found
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
        value = self.shortcut_field(parent_type, source, field_details_list, path)
        if value is not Undefined:
            return value
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def complete_leaf_value(self, return_type: GraphQLLeafType, result: Any) -> Any:  # type: ignore[override]  # graphql-core's is static; this one counts
        value = super().complete_leaf_value(return_type, result)
        self.leaf_completed(value)
        return value

    def handle_field_error(
        self,
        raw_error: Exception,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> None:
        self.field_failed(raw_error)
        super().handle_field_error(raw_error, return_type, field_details_list, path)

    def build_response(self, data: dict[str, Any] | None) -> Any:
        return self.response_built(super().build_response(data))

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        if EVENT_MEMO.on:
            executor._relevant_sub_fields = {}
            EVENT_MEMO.runs += 1
        if isinstance(executor, FieldHooks):
            self.event_executor(executor)
        return executor
