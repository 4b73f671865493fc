"""A moving window of a rate limit: its name, how many events, in how many seconds.

Its own module because both the counting (infra/rate_limit.py) and the all-or-nothing
claims on several windows (infra/claims.py) speak of it, and claims sit below the counting.
"""

from __future__ import annotations

from dataclasses import dataclass

from limits import RateLimitItemPerSecond


@dataclass(frozen=True, slots=True)
class Window:
    """At most `amount` events in any `seconds`; `name` keeps its counts apart from others'."""

    name: str
    amount: int
    seconds: int

    def item(self) -> RateLimitItemPerSecond:
        return RateLimitItemPerSecond(self.amount, self.seconds, namespace=self.name)
