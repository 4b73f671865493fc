"""The response budget: the bytes counted track the JSON's size, and once the budget is
spent nothing more below the root is resolved (schema/executor.py, schema/response_budget.py).

A small schema run with the API's executor, no server; tests/security/test_responses.py
replays the probe over HTTP and WebSocket.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
import strawberry

from schema import executor
from schema.executor import ApiExecutor
from schema.response_budget import DEFAULT_MAX_RESPONSE_BYTES

resolved: list[int] = []


@strawberry.type
class Note:
    n: int
    body: str

    @strawberry.field
    def echo(self) -> str:
        resolved.append(self.n)
        return self.body


@strawberry.type
class Query:
    @strawberry.field
    def notes(self, count: int, size: int, text: str = "x") -> list[Note]:
        return [Note(n=n, body=text * size) for n in range(count)]


@strawberry.type
class Mutation:
    @strawberry.mutation
    def post(self, size: int) -> list[Note]:
        resolved.append(-1)
        return [Note(n=n, body="y" * size) for n in range(10)]


SCHEMA = strawberry.Schema(query=Query, mutation=Mutation, execution_context_class=ApiExecutor)


@pytest.fixture(autouse=True)
def budget() -> Iterator[None]:
    executor.limit_response_bytes(100_000)
    resolved.clear()
    yield
    executor.limit_response_bytes(DEFAULT_MAX_RESPONSE_BYTES)


def _notes(size: int, text: str) -> str:
    return f"{{ notes(count: 50, size: {size}, text: {orjson.dumps(text).decode()}) {{ n body echo }} }}"


@pytest.mark.parametrize(("text", "size"), [("x", 600), ("é", 300), ("漢", 200)])
def test_the_count_is_close_to_the_json_size(text: str, size: int) -> None:
    result = SCHEMA.execute_sync(_notes(size, text))
    assert result.errors is None
    json_size = len(orjson.dumps({"data": result.data}))
    # The same shape scaled to 90 % of the budget is served, to 110 % refused.
    under = SCHEMA.execute_sync(_notes(int(size * 90_000 / json_size), text))
    assert under.errors is None
    over = SCHEMA.execute_sync(_notes(int(size * 110_000 / json_size), text))
    assert over.errors is not None and over.errors[0].extensions == {
        "code": "RESPONSE_TOO_LARGE",
        "limit": 100_000,
    }


def test_once_spent_nothing_more_is_resolved() -> None:
    result = SCHEMA.execute_sync("{ notes(count: 100, size: 10000) { body echo } }")
    assert result.data is None
    [error] = result.errors or []
    assert error.extensions == {"code": "RESPONSE_TOO_LARGE", "limit": 100_000}
    assert "fewer" in error.message
    assert 0 < len(resolved) < 15  # of 100


def test_every_mutation_of_a_document_runs_and_the_answer_says_so() -> None:
    result = SCHEMA.execute_sync(
        "mutation { a: post(size: 20000) { body } b: post(size: 20000) { body } }"
    )
    assert result.data is None and resolved == [-1, -1]
    [error] = result.errors or []
    assert error.extensions == {"code": "RESPONSE_TOO_LARGE", "limit": 100_000}
    assert error.message.startswith("The mutation ran")
