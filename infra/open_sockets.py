"""This process's open sockets, by the hash of the token each was opened with.

The promise: once a token is revoked (logOut, logOutEverywhere) or found expired, every
socket opened with it, in this process, is told to end at once (`end`), not at its next
message. Every hub calls `end` for the revocations it hears of: its own process's always,
the other processes' through Redis (infra.redis_hub).

The registry only points at sockets, weakly: it never keeps one alive, and a socket that
is collected without `discard` drops out by itself. An entry is one WeakSet per token hash,
so adding or discarding a socket costs the same however many share its token: a storm of
thousands of sockets opened (and closed) with one token stays linear.
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
        self._by_hash: dict[str, weakref.WeakSet[Endable]] = {}
        # How many revocations this process has heard of: every hub calls `end` for each one,
        # so a lookup of a token started before the latest (infra.in_flight) is not trusted.
        self.revocations = 0

    def add(self, token_hash: str, socket: Endable) -> None:
        sockets = self._by_hash.get(token_hash)
        if sockets is None:
            sockets = self._by_hash[token_hash] = weakref.WeakSet()
        sockets.add(socket)

    def discard(self, token_hash: str, socket: Endable) -> None:
        sockets = self._by_hash.get(token_hash)
        if sockets is None:
            return
        sockets.discard(socket)
        if not sockets:
            del self._by_hash[token_hash]

    def end(self, token_hashes: Iterable[str]) -> int:
        """End every socket opened with one of `token_hashes`; how many were still open."""
        ended = 0
        self.revocations += 1
        for token_hash in token_hashes:
            # A list first: ending a socket may discard it from the set being walked.
            for socket in list(self._by_hash.pop(token_hash, ())):
                socket.end_session()
                ended += 1
        return ended

    def hashes(self) -> list[str]:
        """The token hashes some open socket was opened with (for the expiry sweep)."""
        return [token_hash for token_hash, sockets in self._by_hash.items() if sockets]

    def __len__(self) -> int:
        return sum(len(refs) for refs in self._by_hash.values())


# One per process: a socket belongs to the process that accepted it, whichever hub runs.
open_sockets = OpenSockets()
