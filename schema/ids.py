"""Relay global IDs and connection cursors: opaque base64 strings over `Type:pk`."""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache


# Pages list the same objects again and again: encoding is pure, so remember recent ones.
@lru_cache(maxsize=65536)
def to_global_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def from_global_id(global_id: str) -> tuple[str, int] | None:
    """(type name, pk), or None for anything that is not one of our IDs."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, pk = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        number = int(pk)
    except (binascii.Error, UnicodeError, ValueError):
        return None
    if not type_name or number <= 0 or str(number) != pk:
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
