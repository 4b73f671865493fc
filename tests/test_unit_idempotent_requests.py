"""What the Idempotency-Key layer reads of a request (web/idempotent_requests.py)."""

from __future__ import annotations

import hashlib
import json

from graphql import get_named_type, is_object_type, is_scalar_type, parse

from schema.schema import schema
from web.idempotent_requests import (
    SECRET_FIELDS,
    UNKNOWN_PERSISTED_QUERY,
    MutationRequest,
    mutation_request,
    selects_secret,
)
from web.persisted_queries import DocumentLru, PersistedQueries

# String fields whose names sound like credentials but are not: what they hold and why.
NOT_SECRET: set[tuple[str, str]] = set()


def test_every_field_that_sounds_like_a_credential_is_listed() -> None:
    suspicious = set()
    for named in schema._schema.type_map.values():
        if not is_object_type(named) or named.name.startswith("__"):
            continue  # inputs are the client's own; introspection holds no data
        for name, field in named.fields.items():
            if not is_scalar_type(get_named_type(field.type)):
                continue
            if any(word in name.lower() for word in ("token", "url", "secret", "key", "password")):
                suspicious.add((named.name, name))
    assert suspicious - NOT_SECRET == SECRET_FIELDS


def test_a_secret_is_found_through_fragments_and_aliases() -> None:
    assert selects_secret(parse("mutation { rotateCalendarFeed { feed { url } } }"))
    assert selects_secret(
        parse(
            'mutation { sendChatMessage(input: {projectId: "p", body: "b"}) '
            "{ message { ...M } } } fragment M on ChatMessage { author { f: calendarFeed { u: url } } }"
        )
    )
    assert not selects_secret(parse("mutation { rotateCalendarFeed { errors { code } } }"))


def test_a_request_by_hash_alone_is_the_request_of_its_document() -> None:
    document = "mutation { logOut }"
    digest = hashlib.sha256(document.encode()).hexdigest()
    documents = PersistedQueries(DocumentLru(10, 10_000))
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    by_hash = json.dumps({"extensions": extensions}).encode()
    assert mutation_request(by_hash, documents) is UNKNOWN_PERSISTED_QUERY
    documents.store.put(digest, document)
    with_document = json.dumps({"query": document, "extensions": extensions}).encode()
    found = mutation_request(by_hash, documents)
    assert isinstance(found, MutationRequest) and not found.secret
    assert found == mutation_request(with_document, documents)
    # A malformed persisted query is the endpoint's to refuse; a query is no mutation.
    bad = json.dumps({"extensions": {"persistedQuery": {"version": 2}}}).encode()
    assert mutation_request(bad, documents) is None
    assert mutation_request(b'{"query": "{ me { id } }"}', documents) is None
