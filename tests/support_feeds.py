"""A feed subscriber for tests of the feeds and hubs themselves: a bounded queue.

The server's subscribers are live subscriptions (web/live_delivery.py); these tests watch
what a feed offers, batch by batch, without a socket in between.
"""

from __future__ import annotations

from collections.abc import Callable

from infra.feeds import DEFAULT_QUEUE_SIZE, Delivery, Ended, LocalFeeds
from infra.inbox import Inbox
from models import hash_token
from services.chat import load_delivery


def local_feeds(queue_size: int = DEFAULT_QUEUE_SIZE) -> LocalFeeds:
    """Feeds as the server makes them (server.event_hub)."""
    return LocalFeeds(load_delivery, queue_size)


class Subscriber(Inbox[Delivery | Ended]):
    """One subscription's end of a feed: a bounded queue of what the feed offers."""

    __slots__ = ("maxsize", "on_overflow", "overflowed", "project_id", "token_hash")

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


async def subscribe(
    feeds: LocalFeeds, project_id: int, token: str, on_overflow: Callable[[], None] | None = None
) -> Subscriber:
    """Join the project's feed; every row committed after this returns will be queued."""
    subscriber = Subscriber(project_id, hash_token(token), feeds.queue_size, on_overflow)
    await feeds.enter(subscriber)
    return subscriber
