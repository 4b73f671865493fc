"""Per-process chat feeds: one per watched project, fanning its new rows out to subscribers.

A notification means "project P has committed chat messages up to at least id N". A feed
never trusts it for content: it loads every row with an id above the last one it delivered,
in id order, so a lost, duplicated or reordered notification can delay an event but never
skip, repeat or reorder one. That relies on chat ids being assigned in commit order within a
project (see infra.unit_of_work).

Each feed does its database work once per batch for all of this process's subscribers of the
project (the rows, what they name, loaded by the function the feeds were made with, and every
subscriber's token) and offers the same `Delivery` to each `Member`, which takes it without
waiting. A subscriber that stops reading is cut off instead of growing memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from infra import metrics, token_lifetime
from models import ChatMessage, Milestone, Project, User

logger = logging.getLogger("milestones.events")

# Deliveries a subscriber may have waiting before it counts as too slow. A delivery is one
# batch of messages, so this is generous: a reader falls this far behind only when it (or
# its socket) has stopped reading altogether. Read from `LocalFeeds.queue_size`; the
# server's is the CHAT_QUEUE_SIZE setting, whose default this is.
DEFAULT_QUEUE_SIZE = 256
# Rows loaded per query while catching up; a feed loops until it has caught up.
BATCH_SIZE = 200


@dataclass(eq=False, slots=True)
class Delivery:
    """One batch of a project's new chat messages, loaded once, shared by all subscribers."""

    project: Project
    messages: list[ChatMessage]
    # The user behind each subscriber's token, read in the same batch; a hash missing here
    # is a revoked (logged out) or expired token. Whether that user may still see the
    # project is an access rule, checked by the subscriber.
    viewers: dict[str, User]
    users: dict[int, User]
    milestones: dict[int, Milestone]


class Ended:
    """Offered to a subscriber when its feed stops (server shutdown)."""


ENDED = Ended()

# What a batch of a project's rows needs besides the viewers (services.chat.load_delivery):
# the project, and the users and milestones the rows name, in a `Delivery`.
LoadDelivery = Callable[[int, list[ChatMessage]], Awaitable[Delivery]]


class Member(Protocol):
    """What a feed needs of a subscriber (web.live_delivery.LiveSubscription): its project,
    its token, and a way to hand it a batch without waiting (False: it cannot take more,
    and leaves the feed)."""

    @property
    def project_id(self) -> int: ...

    @property
    def token_hash(self) -> str: ...

    def offer(self, item: Delivery | Ended) -> bool: ...


@dataclass(eq=False, slots=True)
class ProjectFeed:
    """This process's reader of one project's chat, shared by all its local subscribers."""

    project_id: int
    load: LoadDelivery
    subscribers: set[Member] = field(default_factory=set)
    # Id of the newest message handed out; None until the starting point is read.
    last_id: int | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    # Highest row id any notification announced.
    announced: int = 0
    # A check is owed whatever was announced (Redis listener reconnected, catch-up failed);
    # cleared as a check starts. Not a fake id in `announced`: resync used to put last_id + 1
    # there, which is the next row's id, so when the check found nothing that row's own
    # notification looked handled and was dropped: after a Redis restart, silence.
    recheck: bool = False
    task: asyncio.Task[None] | None = None

    def notify(self, message_id: int | None) -> None:
        """Something up to `message_id` (None: maybe anything) was committed."""
        if message_id is None:
            self.recheck = True
        elif message_id > self.announced:
            self.announced = message_id
        if self.recheck or self.last_id is None or self.announced > self.last_id:
            self.wake.set()

    async def run(self) -> None:
        newest = (
            await ChatMessage.filter(project_id=self.project_id)
            .order_by("-id")
            .first()
            .values_list("id", flat=True)
        )
        self.last_id = int(newest or 0)  # type: ignore[arg-type]  # Tortoise types flat values_list rows as tuples
        self.ready.set()
        while True:
            await self.wake.wait()
            self.wake.clear()
            if not self.recheck and self.announced <= self.last_id:
                continue  # an echo or a late duplicate: already delivered
            self.recheck = False
            try:
                await self._catch_up()
            except asyncio.CancelledError:
                raise
            except Exception:
                # A database hiccup must not kill the feed: retry on the next notification,
                # or shortly, since the missed rows are still there to be read.
                logger.exception("chat feed for project %s failed; retrying", self.project_id)
                await asyncio.sleep(0.5)
                self.notify(None)

    async def _catch_up(self) -> None:
        assert self.last_id is not None
        while True:
            rows = (
                await ChatMessage.filter(project_id=self.project_id, id__gt=self.last_id)
                .order_by("id")
                .limit(BATCH_SIZE)
            )
            if not rows:
                return
            delivery = await self.load(self.project_id, rows)
            # Every subscriber's token, read once the rows are: whoever joined while they
            # loaded gets them too (they may have been committed after it joined).
            audience: set[Member] = set()
            while late := self.subscribers - audience:
                delivery.viewers.update(await _viewers({s.token_hash for s in late}))
                audience |= late
            self.last_id = rows[-1].id
            for subscriber in audience:
                if subscriber in self.subscribers and not subscriber.offer(delivery):
                    self.subscribers.discard(subscriber)
            metrics.FANNED_OUT.inc(len(rows) * len(audience & self.subscribers))  # the takers
            if len(rows) < BATCH_SIZE:
                return


async def _viewers(hashes: Iterable[str]) -> dict[str, User]:
    """Re-validate every subscriber's token in one query per chunk: logOut and expiry stop
    delivery. Reading is not using: a delivery does not keep an idle token alive."""
    live, _ = await token_lifetime.read_tokens(hashes, with_user=True)
    return {token_hash: row.user for token_hash, row in live.items()}


class LocalFeeds:
    """This process's feeds, keyed by project id; where every hub delivers notifications."""

    def __init__(self, load: LoadDelivery, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self.load = load
        self.queue_size = queue_size
        self._feeds: dict[int, ProjectFeed] = {}
        self._closed = False

    def notify(self, project_id: int, message_id: int | None) -> None:
        feed = self._feeds.get(project_id)
        if feed is not None:
            feed.notify(message_id)

    def resync(self) -> None:
        """Make every feed look for rows it may have missed (e.g. while Redis was away)."""
        for feed in self._feeds.values():
            feed.notify(None)

    @property
    def subscriber_count(self) -> int:
        return sum(len(f.subscribers) for f in self._feeds.values())

    async def enter(self, member: Member) -> int:
        """Add `member` to its project's feed; returns the feed's starting point for it: every
        row with a greater id will be offered to it. Rows up to it are the caller's to read
        (a subscription resuming after a message); a few of them may be offered as well, when
        the feed was just starting and moved on before this coroutine resumed."""
        if self._closed:
            raise RuntimeError("event hub is closed")
        project_id = member.project_id
        feed = self._feeds.get(project_id)
        if feed is None:
            feed = self._feeds[project_id] = ProjectFeed(project_id, self.load)
            feed.task = asyncio.create_task(feed.run(), name=f"chat-feed-{project_id}")
        feed.subscribers.add(member)
        try:
            await asyncio.wait_for(feed.ready.wait(), timeout=30)
        except BaseException:
            self.unsubscribe(member)
            raise
        # The feed has handed out every row up to here, and this member, one since before
        # the feed read past it, gets every later one.
        assert feed.last_id is not None
        return feed.last_id

    def unsubscribe(self, member: Member) -> None:
        feed = self._feeds.get(member.project_id)
        if feed is None:
            return
        feed.subscribers.discard(member)
        if not feed.subscribers and feed.task is not None:
            # The last subscriber left: nobody reads this project here any more.
            del self._feeds[member.project_id]
            feed.task.cancel()

    async def close(self) -> None:
        """Stop every feed and tell their subscribers, which then complete."""
        self._closed = True
        feeds, self._feeds = list(self._feeds.values()), {}
        for feed in feeds:
            if feed.task is not None:
                feed.task.cancel()
            for subscriber in feed.subscribers:
                subscriber.offer(ENDED)
        for feed in feeds:
            if feed.task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await feed.task
