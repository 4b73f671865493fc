"""infra/rate_limit.py `AttemptLimiter`: failures per key within a sliding window.

`max_attempts` failures are allowed; then `retry_after` says how many whole seconds until
the oldest one leaves the window. Most tests drive the limiter's clock by hand (it reads
`time.monotonic`, replaced here for that module only); one lets a tiny window run out.
"""

from __future__ import annotations

import math
import time
from types import SimpleNamespace

import pytest

from infra import rate_limit
from infra.rate_limit import AttemptLimiter


class Clock:
    """A monotonic clock that moves only when told to."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(rate_limit, "time", SimpleNamespace(monotonic=fake))
    return fake


def test_max_attempts_failures_are_allowed_then_the_key_waits(clock: Clock) -> None:
    limiter = AttemptLimiter(max_attempts=3, window=60)
    for _ in range(2):
        limiter.failed("ada")
        assert limiter.retry_after("ada") == 0
    limiter.failed("ada")
    assert limiter.retry_after("ada") == 60


def test_retry_after_counts_down_from_the_oldest_failure(clock: Clock) -> None:
    limiter = AttemptLimiter(max_attempts=2, window=60)
    limiter.failed("ada")  # t = 0
    clock.advance(15)
    limiter.failed("ada")  # t = 15
    assert limiter.retry_after("ada") == 45  # the first leaves the window at t = 60
    clock.advance(44.5)
    assert limiter.retry_after("ada") == 1  # rounded up, never 0 while still limited
    clock.advance(0.6)
    assert limiter.retry_after("ada") == 0  # only the second is left


def test_retry_after_is_whole_seconds_and_at_least_one(clock: Clock) -> None:
    limiter = AttemptLimiter(max_attempts=1, window=2.5)
    limiter.failed("ada")
    assert limiter.retry_after("ada") == 3
    clock.advance(2.4999)
    wait = limiter.retry_after("ada")
    assert isinstance(wait, int) and wait == 1


def test_the_window_slides(clock: Clock) -> None:
    limiter = AttemptLimiter(max_attempts=3, window=30)
    for _ in range(3):
        limiter.failed("ada")  # t = 0, 10, 20
        clock.advance(10)
    # t = 30: the first failure is exactly `window` old, still counted (0 s left, shown as 1).
    assert limiter.retry_after("ada") == 1
    clock.advance(0.5)  # t = 30.5: it has left, two remain
    assert limiter.retry_after("ada") == 0
    limiter.failed("ada")  # three again: 10, 20, 30.5
    assert limiter.retry_after("ada") == math.ceil(10 + 30 - 30.5)


def test_success_resets_the_key(clock: Clock) -> None:
    limiter = AttemptLimiter(max_attempts=2, window=60)
    limiter.failed("ada")
    limiter.failed("ada")
    assert limiter.retry_after("ada") > 0
    limiter.succeeded("ada")
    assert limiter.retry_after("ada") == 0
    # A fresh budget: one failure is allowed again before the limit.
    limiter.failed("ada")
    assert limiter.retry_after("ada") == 0
    limiter.failed("ada")
    assert limiter.retry_after("ada") > 0


def test_keys_are_limited_separately(clock: Clock) -> None:
    limiter = AttemptLimiter(max_attempts=1, window=60)
    limiter.failed("ada")
    assert limiter.retry_after("ada") > 0
    assert limiter.retry_after("grace") == 0
    limiter.succeeded("grace")  # an unknown key: nothing to reset, no error
    assert limiter.retry_after("ada") > 0


def test_failures_of_the_oldest_key_are_forgotten_when_full(clock: Clock) -> None:
    limiter = AttemptLimiter(max_attempts=1, window=60, max_keys=2)
    for key in ("a", "b", "c"):
        limiter.failed(key)
    assert limiter.retry_after("a") == 0  # forgotten to make room for "c"
    assert limiter.retry_after("b") > 0 and limiter.retry_after("c") > 0


def test_memory_stays_bounded_when_each_attempt_first_asks(clock: Clock) -> None:
    limiter = AttemptLimiter(max_attempts=10, window=60, max_keys=3)
    for n in range(20):
        key = f"guess-{n}@example.com"
        assert limiter.retry_after(key) == 0
        limiter.failed(key)
    assert len(limiter._failures) <= 3


def test_a_small_window_runs_out_in_real_time() -> None:
    limiter = AttemptLimiter(max_attempts=2, window=0.05)
    limiter.failed("ada")
    limiter.failed("ada")
    assert limiter.retry_after("ada") == 1  # whole seconds, rounded up
    time.sleep(0.08)
    assert limiter.retry_after("ada") == 0
