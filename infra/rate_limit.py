"""A small in-process limiter for failed attempts (log-in guessing)."""

from __future__ import annotations

import math
import time
from collections import deque


class AttemptLimiter:
    """Allows `max_attempts` failures per key within `window` seconds.

    Kept in memory: each server process limits on its own, which bounds guessing per process
    without a shared store on the log-in path.
    """

    def __init__(self, max_attempts: int, window: float, max_keys: int = 100_000) -> None:
        self.max_attempts = max_attempts
        self.window = window
        self.max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again; 0 when it may try now."""
        failures = self._recent(key)
        if len(failures) < self.max_attempts:
            return 0
        return max(1, math.ceil(failures[0] + self.window - time.monotonic()))

    def failed(self, key: str) -> None:
        if len(self._failures) >= self.max_keys and key not in self._failures:
            self._failures.pop(next(iter(self._failures)))  # forget the oldest key
        failures = self._recent(key)
        failures.append(time.monotonic())
        self._failures[key] = failures

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str) -> deque[float]:
        # Asking about a key must not store it: only `failed` adds keys, within max_keys.
        failures = self._failures.get(key, deque())
        cutoff = time.monotonic() - self.window
        while failures and failures[0] < cutoff:
            failures.popleft()
        return failures
