"""`extensions.code` on the errors of a document that cannot run, as Apollo clients expect.

A document that does not parse gets GRAPHQL_PARSE_FAILED (the length and token limits are
parse limits), one that does not validate GRAPHQL_VALIDATION_FAILED (the other limits of
schema/document_limits.py are checked with validation). An error that already has a code
keeps it: COST_LIMIT_EXCEEDED says more than "invalid".
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import DocumentNode, GraphQLError, parse
from strawberry.extensions import SchemaExtension

from schema.document_cache import BoundedCache, document_bytes, unlink_tokens
from schema.document_limits import MAX_TOKENS, too_long

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


# Parsed documents by their text. Only what parsed is kept; failures raise every time.
_parsed: BoundedCache[str, DocumentNode] = BoundedCache(max_entries=128, max_bytes=32 << 20)


def parse_document(text: str) -> DocumentNode:
    """`text` parsed within the length and token limits, from the cache when it can be;
    a GraphQLError coded GRAPHQL_PARSE_FAILED when it does not parse."""
    error = too_long(text)  # before the look-up, which hashes the whole text
    document = _parsed.get(text) if error is None else None
    if document is not None:
        return document
    if error is None:
        try:
            document = parse(text, max_tokens=MAX_TOKENS)
        except GraphQLError as e:
            error = e
    if error is not None:
        if not (error.extensions and "code" in error.extensions):
            error.extensions = {**(error.extensions or {}), "code": PARSE_FAILED}
        raise error
    assert document is not None
    _parsed.put(text, document, document_bytes(text, unlink_tokens(document)))
    return document


class CodedParser(SchemaExtension):
    """Parses with parse_document, in place of strawberry's parsing and ParserCache.

    It parses when its hook starts, so a parse error escapes every hook, already coded.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            context.graphql_document = parse_document(context.query)
        yield


class ValidationErrorCodes(SchemaExtension):
    """Codes the errors validation left, once every other extension's check has run (hooks
    end in the reverse of their order: this one is listed first)."""

    def on_validate(self) -> Iterator[None]:
        yield
        errors = self.execution_context.pre_execution_errors
        if errors:
            # In place: strawberry already holds this list to answer with.
            errors[:] = [with_code(error, VALIDATION_FAILED) for error in errors]
