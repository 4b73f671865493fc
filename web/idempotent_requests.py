"""What the Idempotency-Key layer (web/idempotency_keys.py) reads of a request before it runs.

- Whether it is one mutation, and its canonical form: the same bytes for a true retry. The
  document is the one the request runs, also when it names a persisted query by hash alone
  (such a request used to pass as "not a mutation", and ran again on every retry). A
  document of several operations without `operationName` is no mutation here: the schema
  refuses it (schema/operation_choice.py), so nothing runs.
- Whether its answer may hold a secret: a session token (signUp, logIn) or a calendar feed
  URL (rotateCalendarFeed, `User.calendarFeed`). Such an answer is never stored; the
  document says so before it runs, whichever mutation reaches the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_operation_ast,
    parse,
    visit,
)
from graphql.language.visitor import BREAK

from frameworks.strawberry import graphql_core_schema
from schema.document_limits import MAX_TOKENS, too_long
from schema.schema import schema
from web.persisted_queries import PersistedQueries, named_hash

# (type, field) of every field whose value is a credential: keep this list in step with
# the schema (tests/test_unit_idempotent_requests.py looks for fields it misses).
SECRET_FIELDS = frozenset({("AuthPayload", "token"), ("CalendarFeed", "url")})


@dataclass(frozen=True, slots=True)
class MutationRequest:
    """A request for one mutation: its canonical form, and whether its answer may hold a
    secret."""

    canonical: bytes
    secret: bool


class UnknownPersistedQuery:
    """A request by persisted-query hash alone whose document this process does not hold."""


UNKNOWN_PERSISTED_QUERY = UnknownPersistedQuery()


def mutation_request(
    body: bytes, documents: PersistedQueries
) -> MutationRequest | UnknownPersistedQuery | None:
    """The request in `body` if it is for one mutation; None for anything else, which runs
    no mutation (a query, or a request the endpoint refuses)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None  # refused by the endpoint with a 400
    if not isinstance(data, dict):
        return None
    query = data.get("query")
    if query is None:
        extensions = data.get("extensions")
        query = documents.stored(extensions)
        if query is None:
            # A well-formed hash this process does not hold: the endpoint would answer
            # NOT_FOUND, unless another request stored the document meanwhile.
            return UNKNOWN_PERSISTED_QUERY if isinstance(named_hash(extensions), str) else None
    if not isinstance(query, str) or too_long(query) is not None:
        return None  # refused by the schema's parse step before anything runs
    name = data.get("operationName")
    try:
        # The schema's own bound: what does not parse here does not run there either.
        document = parse(query, no_location=True, max_tokens=MAX_TOKENS)
        operation = get_operation_ast(document, name if isinstance(name, str) else None)
    except GraphQLError:
        return None
    if operation is None or operation.operation is not OperationType.MUTATION:
        return None
    parts = {k: data.get(k) for k in ("operationName", "variables", "extensions")}
    # Key order and spacing are the client's JSON encoder's, not part of the request.
    canonical = json.dumps({**parts, "query": query}, sort_keys=True, separators=(",", ":"))
    return MutationRequest(canonical.encode(), selects_secret(document))


class _SecretFinder(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.found = False

    def enter_field(self, node: FieldNode, *_: object) -> object:
        parent = self.type_info.get_parent_type()
        if parent is not None and (parent.name, node.name.value) in SECRET_FIELDS:
            self.found = True
            return BREAK
        return None


def selects_secret(document: DocumentNode) -> bool:
    """Whether any operation or fragment of `document` selects a field in SECRET_FIELDS.

    Each fragment is visited once, where it is defined, not at each spread.
    """
    type_info = TypeInfo(graphql_core_schema(schema))
    finder = _SecretFinder(type_info)
    visit(document, TypeInfoVisitor(type_info, finder))
    return finder.found
