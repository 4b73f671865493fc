"""Relay global IDs and connection cursors: opaque strings that cannot be forged.

An ID is the URL-safe base64 of `Type:pk` followed by a MAC of it under the server's ID key
(HMAC-SHA256, cut to 12 bytes). Knowing one ID tells nothing about how to write another:
an ID whose MAC does not verify is no ID at all, answered like one that names nothing
(NOT_FOUND, or a user error where a service looks it up). The key is the ID_SECRET
setting or, without it, a random key the server keeps in its database (`use_key` is
called at start-up), so every process of one deployment agrees and restarts keep IDs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from functools import lru_cache

_MAC_BYTES = 12
# Keys are IntFields: anything larger names no row, and must not reach the database.
_MAX_PK = 2**31 - 1

_key = b""


def use_key(key: bytes) -> None:
    """Sign and verify IDs with `key` from now on (the server calls this as it starts)."""
    global _key
    if key != _key:
        _key = key
        to_global_id.cache_clear()


def _mac(body: bytes) -> bytes:
    if not _key:
        raise RuntimeError("no ID key: call schema.ids.use_key at start-up")
    return hmac.new(_key, body, hashlib.sha256).digest()[:_MAC_BYTES]


# Pages list the same objects again and again: encoding is pure, so remember recent ones.
@lru_cache(maxsize=65536)
def to_global_id(type_name: str, pk: int) -> str:
    body = f"{type_name}:{pk}".encode()
    return base64.urlsafe_b64encode(body + _mac(body)).decode().rstrip("=")


def from_global_id(global_id: str) -> tuple[str, int] | None:
    """(type name, pk), or None for anything that is not one of our IDs."""
    if len(global_id) > 200:
        return None
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4))
    except (binascii.Error, ValueError):
        return None
    body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    if len(raw) <= _MAC_BYTES or not hmac.compare_digest(mac, _mac(body)):
        return None
    type_name, _, pk = body.decode().partition(":")
    number = int(pk)
    if not type_name or not 0 < number <= _MAX_PK:
        return None
    return type_name, number


def pk_of(global_id: str, type_name: str) -> int | None:
    """The primary key in `global_id` if it names a `type_name`, else None."""
    parsed = from_global_id(global_id)
    if parsed is None or parsed[0] != type_name:
        return None
    return parsed[1]


def key_of(global_id: str, type_name: str) -> int:
    """The primary key in `global_id`, or 0, a key no row has, when it names no `type_name`.

    For IDs a service looks up and answers with a user error when nothing is found.
    """
    return pk_of(global_id, type_name) or 0


def to_cursor(kind: str, pk: int) -> str:
    return to_global_id(f"cursor.{kind}", pk)


def from_cursor(cursor: str, kind: str) -> int | None:
    return pk_of(cursor, f"cursor.{kind}")
