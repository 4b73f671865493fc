"""Chat event fan-out across server processes through Redis pub/sub (REDIS_URL).

The guarantee: a committed chat event reaches this process's subscribers at once, whatever
state Redis is in, and every other process's once Redis is reachable: in commit order,
exactly once, with no restart. Payloads are ids only ("<project id>:<message id>") and the
feeds read the rows by id, so a lost notification costs latency, never an event.

- `publish` wakes the local feeds itself and only queues the id: no request waits on Redis.
  One sender task publishes the queue (the newest id per project), each round bounded in
  time; on failure it keeps it all, drops its connection (one that died with Redis is never
  reused) and retries with capped backoff, and at once when the listener reconnects.
- One listener connection per process, not per subscriber. It reconnects with capped
  backoff for ever, and after every (re)connect every local feed re-reads the database.
- Revocations ride a second channel, read by the same listener: the space-separated SHA-256
  hashes of tokens that stopped working (never the tokens); each process ends the sockets
  opened with them. They are queued like chat events, up to a bound; a process that misses
  one refuses the token at the socket's next operation and closes it at its expiry sweep.

An outage logs one warning per connection, a reminder each minute, and a line when over.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import re
import socket
import time
from collections.abc import Collection, Iterable

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from infra.feeds import LocalFeeds
from infra.open_sockets import open_sockets
from infra.redact import redact_url

logger = logging.getLogger("milestones.redis_hub")

CHANNEL = "milestones:chat-events"
REVOCATIONS_CHANNEL = "milestones:revoked-tokens"
# Hashes per revocation message (a user with many sessions sends several), and the most
# kept while Redis is unreachable: past that the expiry sweep is the fallback.
_REVOCATION_BATCH = 500
_MAX_UNPUBLISHED_REVOCATIONS = 10_000
_CHAT_BATCH = 1000  # projects per pipelined round: a backlog goes out in a few round trips
_TOKEN_HASH = re.compile(r"[0-9a-f]{64}")
_BACKOFF_FIRST = 0.1
_BACKOFF_MAX = 5.0
# One round of publishes; past this Redis counts as down (a local one answers in well under
# a millisecond). Also how long shutting down waits to hand over the last events.
_PUBLISH_TIMEOUT = 1.0
_REMIND_EVERY = 60.0


_KEEPALIVE: dict[int, int] = {
    option: value
    for name, value in (("TCP_KEEPIDLE", 15), ("TCP_KEEPINTVL", 5), ("TCP_KEEPCNT", 3))
    if (option := getattr(socket, name, None)) is not None
}


def _client(url: str) -> aioredis.Redis:
    """A client for one task alone (the listener, the sender): it needs one connection."""
    return aioredis.Redis.from_url(
        url,
        # RESP2: redis-py 8 with hiredis leaks memory per pub/sub message on RESP3.
        protocol=2,
        # No silent in-library retries: this module owns reconnecting, so that it knows
        # when to resynchronise the feeds and to resend what is queued.
        retry=Retry(NoBackoff(), 0),
        socket_connect_timeout=2.0,
        # The listener blocks on reads for as long as no one publishes: notice a peer that
        # vanished without closing the connection within ~30 s, not the OS default 2 h.
        socket_keepalive=True,
        socket_keepalive_options=_KEEPALIVE,
        decode_responses=True,
    )


class _Outage:
    """When a connection started failing: worth a log line at the first failure and once a
    minute after (not at every retry), and its length once it is over."""

    def __init__(self) -> None:
        self.since: float | None = None
        self._next_line = 0.0

    def failed(self, started: float, error: BaseException) -> str | None:
        """Note a failed attempt begun at `started`: what to log, when it is time to."""
        now = time.monotonic()
        self.since = self.since or started
        if now < self._next_line:
            return None
        self._next_line = now + _REMIND_EVERY
        return str(error) or type(error).__name__  # a timeout's message is empty

    def over(self) -> float | None:
        since, self.since, self._next_line = self.since, None, 0.0
        return None if since is None else time.monotonic() - since


class RedisHub:
    """Publishes to, and listens on, one Redis channel shared by every server process."""

    def __init__(
        self,
        url: str,
        feeds: LocalFeeds,
        channel: str = CHANNEL,
        revocations_channel: str = REVOCATIONS_CHANNEL,
    ) -> None:
        self.url = url
        self.channel = channel
        self.revocations_channel = revocations_channel
        self.feeds = feeds
        self._publisher: aioredis.Redis | None = None
        self._tasks: list[asyncio.Task[None]] = []
        # Newest id per project, and revoked token hashes, not published yet.
        self._unpublished: dict[int, int] = {}
        self._unpublished_revocations: set[str] = set()
        self._has_unpublished = asyncio.Event()
        self._retry_now = asyncio.Event()  # the listener reconnected
        self._listener_outage = _Outage()
        self._publisher_outage = _Outage()
        self.connected = asyncio.Event()
        self.reconnects = 0

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listen(), name="redis-chat-listener"),
            asyncio.create_task(self._send(), name="redis-chat-sender"),
        ]
        # Give the first connection a moment, so that events published right after start-up
        # reach this process; a Redis that is down does not stop the server from starting.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), timeout=3)
        if not self.connected.is_set():
            logger.warning(
                "Redis at %s unreachable; chat events stay local until it is", redact_url(self.url)
            )

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # What this process committed last should still reach the others: one bounded try.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(_PUBLISH_TIMEOUT):
                while self._unpublished or self._unpublished_revocations:
                    await self._send_batch()
        await self.feeds.close()
        await self._drop_publisher()

    async def publish(self, project_id: int, message_id: int) -> None:
        # This process's subscribers are woken here and now, never through Redis: a Redis
        # that is down or hung must not delay them, nor the response of the change.
        self.feeds.notify(project_id, message_id)
        self._unpublished[project_id] = max(message_id, self._unpublished.get(project_id, 0))
        self._has_unpublished.set()

    async def revoke(self, token_hashes: Collection[str]) -> None:
        open_sockets.end(token_hashes)
        self._keep_revocations(token_hashes)
        self._has_unpublished.set()

    def _keep_revocations(self, token_hashes: Iterable[str]) -> None:
        pending = [h for h in token_hashes if h not in self._unpublished_revocations]
        room = max(_MAX_UNPUBLISHED_REVOCATIONS - len(self._unpublished_revocations), 0)
        self._unpublished_revocations.update(pending[:room])
        if len(pending) > room:
            logger.warning("%d token revocations dropped (queue full)", len(pending) - room)

    async def _send(self) -> None:
        backoff = _BACKOFF_FIRST
        while True:
            await self._has_unpublished.wait()
            self._has_unpublished.clear()
            # Cleared before trying: a reconnect during the attempt still cuts the backoff.
            self._retry_now.clear()
            started = time.monotonic()
            try:
                await asyncio.wait_for(self._send_batch(), timeout=_PUBLISH_TIMEOUT)
            except Exception as error:
                # Whatever the failure, the connection may be dead or mid-reply: drop it.
                await self._drop_publisher()
                self._has_unpublished.set()
                if why := self._publisher_outage.failed(started, error):
                    logger.warning("Redis publish failed (%s); queued until it is back", why)
                with contextlib.suppress(TimeoutError):
                    delay = backoff * random.uniform(0.8, 1.2)
                    await asyncio.wait_for(self._retry_now.wait(), timeout=delay)
                backoff = min(backoff * 2, _BACKOFF_MAX)
                continue
            backoff = _BACKOFF_FIRST
            if self._unpublished or self._unpublished_revocations:
                self._has_unpublished.set()
            elif (down_for := self._publisher_outage.over()) is not None:
                logger.info("Redis publishing resumed after %.1fs; the queue is sent", down_for)

    async def _send_batch(self) -> None:
        """Publish up to a batch of what is queued in one round trip; on any failure
        (cancellation included) put it back."""
        chat = dict(
            self._unpublished.popitem() for _ in range(min(len(self._unpublished), _CHAT_BATCH))
        )
        hashes = list(itertools.islice(self._unpublished_revocations, 4 * _REVOCATION_BATCH))
        self._unpublished_revocations.difference_update(hashes)
        try:
            if self._publisher is None:
                self._publisher = _client(self.url)
            async with self._publisher.pipeline(transaction=False) as pipe:
                for project_id, message_id in chat.items():
                    pipe.publish(self.channel, f"{project_id}:{message_id}")
                for start in range(0, len(hashes), _REVOCATION_BATCH):
                    batch = " ".join(hashes[start : start + _REVOCATION_BATCH])
                    pipe.publish(self.revocations_channel, batch)
                await pipe.execute()
        except BaseException:
            for project_id, message_id in chat.items():
                # What was queued meanwhile may be newer.
                newest = max(message_id, self._unpublished.get(project_id, 0))
                self._unpublished[project_id] = newest
            self._keep_revocations(hashes)
            raise

    async def _drop_publisher(self) -> None:
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            with contextlib.suppress(Exception):
                await publisher.aclose()

    async def _listen(self) -> None:
        backoff = _BACKOFF_FIRST
        while True:
            client = _client(self.url)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel, self.revocations_channel)
                self._on_connect()
                backoff = _BACKOFF_FIRST
                await self._read(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.connected.clear()
                if why := self._listener_outage.failed(time.monotonic(), error):
                    logger.warning("Redis listener lost (%s); reconnecting until it is back", why)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(backoff * random.uniform(0.8, 1.2))
            backoff = min(backoff * 2, _BACKOFF_MAX)

    def _on_connect(self) -> None:
        down_for = self._listener_outage.over()
        # Whatever was committed while this process was not subscribed is in the database:
        # every feed re-reads it, including those with nothing announced since.
        self.feeds.resync()
        if down_for is not None:
            state = "reconnected" if self.reconnects else "connected"
            logger.info(
                "Redis listener %s after %.1fs; chat feeds re-read the database", state, down_for
            )
        self.reconnects += 1
        self.connected.set()
        # Publishes that failed meanwhile go now, not at the end of the sender's backoff.
        self._retry_now.set()

    async def _read(self, pubsub: PubSub) -> None:
        while True:
            message = await pubsub.get_message(timeout=None)
            if message is None or message.get("type") != "message":
                continue
            if message["channel"] == self.revocations_channel:
                self._end_sockets(message["data"])
            else:
                self._dispatch(message["data"])

    @staticmethod
    def _end_sockets(data: str) -> None:
        # Only well-formed hashes: the channel is shared with whatever else uses this Redis.
        open_sockets.end(h for h in data.split() if _TOKEN_HASH.fullmatch(h))

    def _dispatch(self, data: str) -> None:
        project, _, message = data.partition(":")
        try:
            self.feeds.notify(int(project), int(message))
        except ValueError:
            logger.warning("ignoring malformed chat event %r", data)
