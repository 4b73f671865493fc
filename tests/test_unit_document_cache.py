"""schema/document_cache.py: DOCUMENT_CACHE_MIB shares one byte bound among the document
caches in their default proportions. tests/security/test_documents.py shows, against a
server process, that what they keep under it stays bounded and what they drop is freed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from schema import cost, document_cache, error_codes, visibility
from schema.document_cache import DEFAULT_MIB, BoundedCache
from settings import Settings

# The caches the server keeps.
SERVER_CACHES = (error_codes._parsed, visibility._validate._cache, cost._costs)


@pytest.fixture
def default_size() -> Iterator[None]:
    yield
    document_cache.size_caches(DEFAULT_MIB)


def test_the_default_setting_is_the_sum_of_the_caches_own_sizes() -> None:
    assert Settings().document_cache_mib == DEFAULT_MIB
    assert Settings.from_env({}).document_cache_mib == DEFAULT_MIB
    assert sum(cache.default_bytes for cache in SERVER_CACHES) == DEFAULT_MIB << 20


@pytest.mark.usefixtures("default_size")
def test_the_setting_scales_every_cache_and_drops_what_no_longer_fits() -> None:
    cache: BoundedCache[int, str] = BoundedCache(max_entries=100, max_bytes=DEFAULT_MIB << 20)
    for key in range(8):
        cache.put(key, "x", 1 << 20)
    document_cache.size_caches(DEFAULT_MIB // 4)
    assert cache.max_bytes == (DEFAULT_MIB << 20) // 4
    for server_cache in SERVER_CACHES:
        assert server_cache.max_bytes == server_cache.default_bytes // 4
    document_cache.size_caches(4)  # 4 of 56 MiB: room for 4 entries of 1 MiB
    assert cache.bytes <= 4 << 20 and len(cache) == 4
    assert cache.get(7) == "x" and cache.get(0) is None  # the least recently used went
