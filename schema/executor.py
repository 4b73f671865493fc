"""The executor every operation runs with: strawberry's, plus the API's two adjustments.

- Suggestions are hidden from variable coercion errors for callers who may not see the
  schema (`schema.visibility.VisibilityExecutor`).
- Each subscription event gets its own subfield memo. graphql-core memoizes the subfields
  of a field by the identity of its field list and keeps each list alive beside the entry;
  its per-event copies share the subscription's memo, and every event brings new lists, so
  a long-lived subscription's memo grew with every event it delivered (the soak run,
  docs/performance.md, measured about 3 MiB a minute with 500 subscribers). Within one
  event the memo still serves the lists of every item.
"""

from __future__ import annotations

from typing import Any

from schema.visibility import VisibilityExecutor


class ApiExecutor(VisibilityExecutor):
    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        return executor
