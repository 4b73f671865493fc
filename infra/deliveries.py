"""What a project's chat feed hands its subscribers: batches of new rows (`Delivery`), and
`ENDED` when the feed stops; a subscriber is any `Member`, such as a `Subscriber` queue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from infra.inbox import Inbox
from models import ChatMessage, Milestone, Project, User


@dataclass(eq=False, slots=True, weakref_slot=True)
class Delivery:
    """One batch of a project's new chat messages, loaded once, shared by all subscribers.

    Weakly referenceable, so that what the GraphQL layer derives from a delivery once for
    all its subscribers lives exactly as long as the delivery.
    """

    project: Project
    messages: list[ChatMessage]
    # The user behind each subscriber's token, read in the same batch; a hash missing here
    # is a revoked (logged out) or expired token. Whether that user may still see the
    # project is an access rule, checked by the subscriber.
    viewers: dict[str, User]
    users: dict[int, User]
    milestones: dict[int, Milestone]


class Ended:
    """Queued to a subscriber when its feed stops (server shutdown)."""


ENDED = Ended()


class Member(Protocol):
    """What a feed needs of a subscriber: its project, its token, and a way to hand it a
    batch without waiting (False: it cannot take more, and leaves the feed)."""

    @property
    def project_id(self) -> int: ...

    @property
    def token_hash(self) -> str: ...

    def offer(self, item: Delivery | Ended) -> bool: ...


class Subscriber(Inbox[Delivery | Ended]):
    """One subscription's end of a feed: a bounded queue of deliveries (an `Inbox`: nearly
    always empty, thousands of times over)."""

    __slots__ = (
        "maxsize",
        "on_overflow",
        "overflowed",
        "project_id",
        "token_hash",
    )

    def __init__(
        self,
        project_id: int,
        token_hash: str,
        maxsize: int,
        on_overflow: Callable[[], None] | None = None,
    ) -> None:
        self.project_id = project_id
        self.token_hash = token_hash
        self.maxsize = maxsize
        self.on_overflow = on_overflow
        self.overflowed = False
        super().__init__()

    @property
    def pending(self) -> int:
        return len(self)

    def offer(self, item: Delivery | Ended) -> bool:
        """Queue `item`; False (and `on_overflow` called) when the queue is full."""
        if len(self) >= self.maxsize and not isinstance(item, Ended):
            self.overflowed = True
            if self.on_overflow is not None:
                self.on_overflow()
            return False
        self.put_nowait(item)
        return True
