"""Random keys the server makes once and every process of a deployment shares.

Kept in the database, the one store every process already trusts: the first process to
need a key creates it, a concurrent creator loses on the primary key and reads the
winner's, and every later start reads the same key.
"""

from __future__ import annotations

import secrets

from tortoise.exceptions import IntegrityError

from models import ServerSecret


async def server_secret(name: str) -> bytes:
    """The key called `name`, made on first use."""
    row = await ServerSecret.get_or_none(name=name)
    if row is None:
        try:
            row = await ServerSecret.create(name=name, value=secrets.token_urlsafe(48))
        except IntegrityError:  # another process made it first: use theirs
            row = await ServerSecret.get(name=name)
    return row.value.encode()
