"""`extensions.code` on the errors of a document that cannot run, as Apollo clients expect.

A document that does not parse gets GRAPHQL_PARSE_FAILED (the token limit is a parse limit),
one that does not validate GRAPHQL_VALIDATION_FAILED (the depth and alias limits are
validation rules). An error that already has a code keeps it: COST_LIMIT_EXCEEDED says
more than "invalid".
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import ParserCache, SchemaExtension

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


def with_code(error: GraphQLError, code: str) -> GraphQLError:
    """`error` with `code`, or as it is when it has a code already.

    A copy: validation errors are cached and shared between requests.
    """
    if error.extensions and "code" in error.extensions:
        return error
    return GraphQLError(
        error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions={**(error.extensions or {}), "code": code},
    )


class CodedParserCache(ParserCache):
    """strawberry's ParserCache, its syntax errors coded GRAPHQL_PARSE_FAILED.

    The cache parses when its hook starts, so a syntax error escapes every hook: it is coded
    here, where it is raised (a new error each time: failed parses are not cached).
    """

    def on_parse(self) -> Iterator[None]:
        try:
            yield from super().on_parse()
        except GraphQLError as error:
            if not (error.extensions and "code" in error.extensions):
                error.extensions = {**(error.extensions or {}), "code": PARSE_FAILED}
            raise


class ValidationErrorCodes(SchemaExtension):
    """Codes the errors validation left, once every other extension's check has run (hooks
    end in the reverse of their order: this one is listed first)."""

    def on_validate(self) -> Iterator[None]:
        yield
        errors = self.execution_context.pre_execution_errors
        if errors:
            # In place: strawberry already holds this list to answer with.
            errors[:] = [with_code(error, VALIDATION_FAILED) for error in errors]
