"""Automatic persisted queries, Apollo's protocol: clients send a document's SHA-256 instead
of the document once the server has seen it.

A request whose `extensions.persistedQuery` is `{"version": 1, "sha256Hash": H}`:
- without `query`: runs the document stored under H, or gets PERSISTED_QUERY_NOT_FOUND
  (message "PersistedQueryNotFound", which Apollo clients look for) so that the client
  sends it again with the document;
- with `query`: the document must hash to H (else BAD_REQUEST), and once it has parsed and
  validated it is stored under H.
GET carries the same fields as query parameters; it runs queries only, as any GET does.

Documents are kept per process in an LRU bounded both in entries and in bytes
(PERSISTED_QUERIES_MAX_ENTRIES, PERSISTED_QUERIES_MAX_BYTES): a client that sends many
documents evicts the oldest, never grows the process. A process that has not seen a
document answers NOT_FOUND, and the client sends it once more: correct, just one round trip.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import OrderedDict

from graphql import GraphQLError
from strawberry.http import GraphQLRequestData
from strawberry.types.execution import PreExecutionError

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"


class DocumentLru:
    """Documents by hash, the least recently used dropped past `max_entries` or `max_bytes`
    (UTF-8 size of the documents)."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._documents: OrderedDict[str, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._documents)

    def get(self, key: str) -> str | None:
        document = self._documents.get(key)
        if document is not None:
            self._documents.move_to_end(key)
        return document

    def put(self, key: str, document: str) -> None:
        size = len(document.encode())
        if size > self.max_bytes or self.max_entries == 0:
            return  # would evict everything and still not fit
        old = self._documents.pop(key, None)
        if old is not None:
            self.bytes -= len(old.encode())
        self._documents[key] = document
        self.bytes += size
        while len(self._documents) > self.max_entries or self.bytes > self.max_bytes:
            _, evicted = self._documents.popitem(last=False)
            self.bytes -= len(evicted.encode())


def refused(message: str, code: str) -> PreExecutionError:
    return PreExecutionError(data=None, errors=[GraphQLError(message, extensions={"code": code})])


def requested_hash(request: GraphQLRequestData) -> str | PreExecutionError | None:
    """The hash the request names, None if it uses no persisted query, or why it cannot."""
    return named_hash(request.extensions)


def named_hash(extensions: object) -> str | PreExecutionError | None:
    """The hash a request's `extensions` name, None if they name none, or why they cannot."""
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    if persisted is None:
        return None
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        return refused("PersistedQueryNotSupported", NOT_SUPPORTED)
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or len(digest) != 64:
        return refused(
            "extensions.persistedQuery.sha256Hash must be a SHA-256 in hex.", "BAD_REQUEST"
        )
    return digest.lower()


class PersistedQueries:
    """Looks up, checks and keeps the documents of persisted-query requests."""

    def __init__(self, store: DocumentLru) -> None:
        self.store = store

    def resolve(self, request: GraphQLRequestData) -> GraphQLRequestData | PreExecutionError:
        """The request with its document filled in, or the error to answer with."""
        digest = requested_hash(request)
        if digest is None or isinstance(digest, PreExecutionError):
            return digest or request
        if request.query is None:
            document = self.store.get(digest)
            if document is None:
                return refused("PersistedQueryNotFound", NOT_FOUND)
            return dataclasses.replace(request, query=document)
        if hashlib.sha256(request.query.encode()).hexdigest() != digest:
            return refused("provided sha does not match query", "BAD_REQUEST")
        return request

    def stored(self, extensions: object) -> str | None:
        """The document stored under the hash `extensions` name; None if they name none, or
        one this process does not hold (the request is then answered NOT_FOUND)."""
        digest = named_hash(extensions)
        return self.store.get(digest) if isinstance(digest, str) else None

    def remember(self, request: GraphQLRequestData) -> None:
        """Keep the document of a request that named a hash and parsed and validated."""
        digest = requested_hash(request)
        if isinstance(digest, str) and request.query is not None:
            self.store.put(digest, request.query)
