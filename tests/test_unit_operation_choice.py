"""strawberry still falls back to the first operation, and still keeps the name the request
gave where schema/operation_choice.py reads it."""

from __future__ import annotations

from graphql import parse
from strawberry.types import ExecutionContext

from frameworks.strawberry import provided_operation_name
from schema.schema import schema

DOCUMENT = "mutation A { logOut } query B { me { id } }"


def _context(name: str | None) -> ExecutionContext:
    context = ExecutionContext(
        query=DOCUMENT, schema=schema, allowed_operations=(), provided_operation_name=name
    )
    context.graphql_document = parse(DOCUMENT)
    return context


def test_the_name_given_is_read_and_none_is_told_from_the_fallback() -> None:
    assert provided_operation_name(_context("B")) == "B"
    unnamed = _context(None)
    assert provided_operation_name(unnamed) is None
    # The fallback the extension exists for: should strawberry follow the spec one day,
    # this fails, and the extension may go.
    assert unnamed.operation_name == "A"


async def test_the_schema_refuses_and_runs_nothing() -> None:
    result = await schema.execute(DOCUMENT)
    assert result.data is None
    [error] = result.errors or []
    assert error.extensions == {"code": "BAD_REQUEST"}
    assert "operationName" in error.message
