"""Each subscription event executes with a subfield memo of its own.

graphql-core's per-event executors share the subscription's memo, which then grows with
every event for as long as the subscription lives (see schema/executor.py). The soak run
measures the memory; this checks the mechanism, with no server.
"""

from __future__ import annotations

from graphql import parse

from schema.executor import ApiExecutor
from schema.schema import schema

SUBSCRIPTION = parse("subscription($p: ID!) { chatEvents(projectId: $p) { id kind body } }")


def test_every_event_gets_a_memo_of_its_own() -> None:
    executor = ApiExecutor.build(schema._schema, SUBSCRIPTION, raw_variable_values={"p": "x"})
    first = executor.build_per_event_executor({"n": 1})
    second = executor.build_per_event_executor({"n": 2})
    memos = [executor._relevant_sub_fields, first._relevant_sub_fields]
    memos.append(second._relevant_sub_fields)
    assert len({id(memo) for memo in memos}) == 3
    # The rest of the copy is still shared: same document, variables and schema.
    assert first.operation is executor.operation and second.schema is executor.schema
    assert first.root_value == {"n": 1} and second.root_value == {"n": 2}


def test_every_event_gets_plans_of_its_own() -> None:
    # The plans are keyed by the identity of the memo's field sets: a memo of its own
    # needs plans of its own, or they would grow with every event as the memo did.
    executor = ApiExecutor.build(schema._schema, SUBSCRIPTION, raw_variable_values={"p": "x"})
    executor._object_plans = {1: ({}, None)}
    event = executor.build_per_event_executor({"n": 1})
    assert event._object_plans == {} and executor._object_plans == {1: ({}, None)}
