"""Each subscription event executes with a subfield memo of its own.

graphql-core's per-event executors share the subscription's memo, which then grows with
every event for as long as the subscription lives (see schema/executor.py). The soak run
measures the memory; this checks the mechanism, with no server.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any, ClassVar

import strawberry
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


@strawberry.type
class Event:
    title: str
    number: int


@strawberry.type
class Query:
    ping: str = "pong"


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def events(self) -> AsyncGenerator[Event, None]:
        for number in (1, 2):
            yield Event(title=f"event {number}", number=number)


class Observed(ApiExecutor):
    """The API's executor, noting every per-event executor it makes."""

    events: ClassVar[list[ApiExecutor]] = []

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        Observed.events.append(executor)
        return executor


async def test_every_event_reads_its_plain_fields_the_short_way() -> None:
    small = strawberry.Schema(
        query=Query, subscription=Subscription, execution_context_class=Observed
    )
    Observed.events = []
    results = [r async for r in await small.subscribe("subscription { events { title number } }")]
    assert [r.data for r in results] == [
        {"events": {"title": "event 1", "number": 1}},
        {"events": {"title": "event 2", "number": 2}},
    ]
    # Each event's object was read in one go, and counted by that event's executor.
    assert [e.plain_reads for e in Observed.events] == [1, 1]
