"""infra/mail_worker.py `backoff_seconds`: exponential growth, the cap, and the jitter's range.

After `attempts` failures the full delay is base × 2^(attempts − 1), at most `cap`; the
returned delay lies in [delay/2, delay] ("equal jitter").
"""

from __future__ import annotations

import pytest

from infra.mail_worker import backoff_seconds

BASE, CAP = 0.5, 60.0
SAMPLES = 300


def full_delay(attempts: int) -> float:
    return min(CAP, BASE * 2 ** max(attempts - 1, 0))


def samples(attempts: int, base: float = BASE, cap: float = CAP) -> list[float]:
    return [backoff_seconds(attempts, base, cap) for _ in range(SAMPLES)]


@pytest.mark.parametrize("attempts", [0, 1, 2, 3, 5, 7, 8, 20, 1000])
def test_jitter_stays_within_half_and_whole_of_the_delay(attempts: int) -> None:
    delay = full_delay(attempts)
    got = samples(attempts)
    assert all(delay / 2 <= s <= delay for s in got), (delay, min(got), max(got))
    # Really jittered: e-mails that failed together spread out over the range.
    assert len(set(got)) > SAMPLES // 2
    assert min(got) < delay * 0.6 and max(got) > delay * 0.9


def test_the_first_retries_wait_about_the_base() -> None:
    for attempts in (0, 1):
        assert all(BASE / 2 <= s <= BASE for s in samples(attempts))


def test_delay_doubles_with_each_failure_until_the_cap() -> None:
    # Equal jitter makes the ranges of consecutive attempts touch: [d/2, d] then [d, 2d].
    previous = samples(1)
    for attempts in range(2, 8):  # 0.5 s up to 32 s, under the 60 s cap
        current = samples(attempts)
        assert min(current) >= max(previous)
        assert max(current) <= full_delay(attempts) == 2 * full_delay(attempts - 1)
        previous = current
    assert full_delay(7) == 32.0


def test_delay_is_capped() -> None:
    for attempts in (8, 9, 12, 50, 1000):
        got = samples(attempts)
        assert max(got) <= CAP
        assert min(got) >= CAP / 2


def test_the_formula_at_the_jitter_extremes() -> None:
    def lowest(low: float, high: float) -> float:
        return low

    def highest(low: float, high: float) -> float:
        return high

    got = [backoff_seconds(n, 1.0, 10.0, lowest) for n in (1, 2, 3, 4, 5, 6)]
    assert got == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    got = [backoff_seconds(n, 1.0, 10.0, highest) for n in (1, 2, 3, 4, 5, 6)]
    assert got == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_any_number_of_attempts_is_capped() -> None:
    assert CAP / 2 <= backoff_seconds(1100, BASE, CAP) <= CAP
