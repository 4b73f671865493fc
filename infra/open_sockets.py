"""This process's open sockets, by the hash of the token each was opened with.

The promise: once a token is revoked (logOut, logOutEverywhere) or found expired, every
socket opened with it, in this process, is told to end at once (`end`), not at its next
message. Every hub calls `end` for the revocations it hears of: its own process's always,
the other processes' through Redis (infra.redis_hub).

The registry only points at sockets, weakly: it never keeps one alive, and a socket
forgotten without `discard` costs a dead reference until its token is swept. An entry is
one list of weak references per token hash (a few hundred bytes), so thousands of idle
sockets cost little next to the sockets themselves.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Protocol


class Endable(Protocol):
    """A connection that can be ended from outside its own task."""

    def end_session(self) -> None:
        """Stop every operation and close, without waiting (called from listeners)."""


class OpenSockets:
    """Token hash -> the sockets opened with that token (weak references)."""

    def __init__(self) -> None:
        self._by_hash: dict[str, list[weakref.ref[Endable]]] = {}

    def add(self, token_hash: str, socket: Endable) -> None:
        self._by_hash.setdefault(token_hash, []).append(weakref.ref(socket))

    def discard(self, token_hash: str, socket: Endable) -> None:
        refs = self._by_hash.get(token_hash)
        if refs is None:
            return
        # Drops this socket and any that were collected without saying so.
        refs[:] = [ref for ref in refs if (alive := ref()) is not None and alive is not socket]
        if not refs:
            del self._by_hash[token_hash]

    def end(self, token_hashes: Iterable[str]) -> int:
        """End every socket opened with one of `token_hashes`; how many were still open."""
        ended = 0
        for token_hash in token_hashes:
            for ref in self._by_hash.pop(token_hash, ()):
                socket = ref()
                if socket is not None:
                    socket.end_session()
                    ended += 1
        return ended

    def hashes(self) -> list[str]:
        """The token hashes some open socket was opened with (for the expiry sweep)."""
        return list(self._by_hash)

    def __len__(self) -> int:
        return sum(len(refs) for refs in self._by_hash.values())


# One per process: a socket belongs to the process that accepted it, whichever hub runs.
open_sockets = OpenSockets()
