"""Caches of work done on documents, bounded in entries and in bytes.

Clients choose the documents, so what a cache keeps must not grow with what they send:
1,100 anonymous documents of 1 MB once took a server from 139 MB to 2.9 GB through caches
bounded only in entries. Each entry here has a weight (an estimate of the bytes it keeps
alive), the least recently used go first once either bound is passed, and an entry heavier
than a quarter of the byte bound is not kept at all. DOCUMENT_CACHE_MIB sizes them all
at once (`size_caches`), each keeping its share of the total.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Generic, NamedTuple, TypeVar
from weakref import WeakSet

from graphql import DocumentNode

K = TypeVar("K")
V = TypeVar("V")

# Bytes a parsed token keeps alive: the token, its AST node and their locations (measured
# with tracemalloc on a document of 2,000 tokens: about 450).
TOKEN_BYTES = 500

# DOCUMENT_CACHE_MIB's default: the sum of the caches' own sizes (parsed documents 32 MiB,
# validations 16, costs 8), each of which it scales in proportion.
DEFAULT_MIB = 56
# Every cache made here, so that the setting can resize them all; weakly, so that one made
# for a test goes when the test drops it.
_caches: WeakSet[BoundedCache[Any, Any]] = WeakSet()


class CacheInfo(NamedTuple):
    """As functools.lru_cache reports it."""

    hits: int
    misses: int
    maxsize: int
    currsize: int


class BoundedCache(Generic[K, V]):
    """A least-recently-used cache bounded by `max_entries` and by `max_bytes` of weight.

    `max_bytes` is its size under the default DOCUMENT_CACHE_MIB; `size_caches` scales it.
    """

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.default_bytes = self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = self.misses = 0
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        _caches.add(self)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: K, value: V, weight: int) -> None:
        if weight > self.max_bytes // 4:
            return  # would push out a quarter of the cache for one entry
        old = self._entries.pop(key, None)
        if old is not None:
            self.bytes -= old[1]
        self._entries[key] = (value, weight)
        self.bytes += weight
        self._shrink()

    def _shrink(self) -> None:
        while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
            _, (_, evicted) = self._entries.popitem(last=False)
            self.bytes -= evicted

    def cache_info(self) -> CacheInfo:
        return CacheInfo(self.hits, self.misses, self.max_entries, len(self._entries))


def size_caches(mib: int) -> None:
    """Give the caches `mib` MiB in all (DOCUMENT_CACHE_MIB), each its share of the default
    total; each drops at once what no longer fits."""
    for cache in _caches:
        cache.max_bytes = cache.default_bytes * mib // DEFAULT_MIB
        cache._shrink()


def text_bytes(text: str) -> int:
    """The weight of keeping `text` (as a key, say)."""
    return 64 + len(text) * (1 if text.isascii() else 4)


def unlink_tokens(document: DocumentNode) -> int:
    """Drops each token's link to the one before it; returns how many tokens there are.

    The lexer links tokens both ways, so a parsed document is a cycle: dropped, it waits for
    the garbage collector, and a cached one, long-lived, for a full collection, which
    server.py makes rare. 1,000 distinct documents at the token limit, each evicted in
    turn, grew a server by 190 MiB that way. Nothing reads the backward links once the
    parser is done; without them a document is a tree, freed as soon as it is dropped.
    """
    tokens = 0
    token = document.loc.start_token if document.loc else None
    while token is not None:
        tokens += 1
        token.prev = None
        token = token.next
    return tokens


def token_count(document: DocumentNode) -> int:
    tokens = 0
    token = document.loc.start_token if document.loc else None
    while token is not None:
        tokens += 1
        token = token.next
    return tokens


def document_bytes(text: str, tokens: int) -> int:
    """The weight of keeping a document parsed from `text` into `tokens` tokens, and
    anything that refers to it (errors hold its nodes, and every node its tokens)."""
    return 2 * text_bytes(text) + tokens * TOKEN_BYTES
