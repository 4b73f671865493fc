"""Chat event fan-out across server processes through Redis pub/sub (REDIS_URL).

One channel carries "<project id>:<message id>" for every project; each process keeps ONE
listener connection (not one per subscriber) and wakes its local feeds. Payloads are ids
only: the feeds read the rows from the shared database, so a notification lost while Redis
was unreachable costs latency, not events — after every (re)connect the hub asks each local
feed to look for rows it has not delivered yet.

The listener reconnects with capped exponential backoff and never gives up; publishing never
fails a change (it has already committed): the newest id per project that could not be
published is kept and sent once the connection is back. This process's own subscribers are
woken directly, without the Redis round trip.

Revocations travel on a second channel, read by the same listener connection: a message is
the space-separated SHA-256 hashes of tokens that stopped working (never the tokens), and
each process ends its sockets opened with them. One that cannot be published is kept (up
to a bound) and sent after the reconnect; a process that misses one anyway refuses the
token at the socket's next operation and closes the socket at its next expiry sweep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import socket
from collections.abc import Collection

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

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
_TOKEN_HASH = re.compile(r"[0-9a-f]{64}")
_BACKOFF_FIRST = 0.1
_BACKOFF_MAX = 5.0
_PUBLISH_TIMEOUT = 1.0


_KEEPALIVE: dict[int, int] = {
    option: value
    for name, value in (("TCP_KEEPIDLE", 15), ("TCP_KEEPINTVL", 5), ("TCP_KEEPCNT", 3))
    if (option := getattr(socket, name, None)) is not None
}


def _client(url: str, *, max_connections: int | None = None) -> aioredis.Redis:
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        # Publishes from concurrent changes share a few connections (waiting for one up to
        # the publish timeout) instead of opening one each.
        max_connections=max_connections or 1,
        timeout=_PUBLISH_TIMEOUT,
        # RESP2: redis-py 8 with hiredis leaks memory per pub/sub message on RESP3.
        protocol=2,
        # No silent in-library retries: this module owns reconnecting, so that it knows
        # when to resynchronise the feeds.
        retry=Retry(NoBackoff(), 0),
        socket_connect_timeout=2.0,
        # The listener blocks on reads for as long as no one publishes: notice a peer that
        # vanished without closing the connection within ~30 s, not the OS default 2 h.
        socket_keepalive=True,
        socket_keepalive_options=_KEEPALIVE,
        decode_responses=True,
    )
    return aioredis.Redis.from_pool(pool)  # the client owns, and closes, its pool


class RedisHub:
    """Publishes to, and listens on, one Redis channel shared by every server process."""

    def __init__(
        self,
        url: str,
        feeds: LocalFeeds | None = None,
        channel: str = CHANNEL,
        revocations_channel: str = REVOCATIONS_CHANNEL,
    ) -> None:
        self.url = url
        self.channel = channel
        self.revocations_channel = revocations_channel
        self.feeds = feeds or LocalFeeds()
        self._publisher = _client(url, max_connections=4)
        self._listener: asyncio.Task[None] | None = None
        # Newest id per project that could not be published yet (bounded by project count).
        self._unpublished: dict[int, int] = {}
        self._unpublished_revocations: set[str] = set()
        self.connected = asyncio.Event()
        self.reconnects = 0

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen(), name="redis-chat-listener")
        # Give the first connection a moment, so that events published right after start-up
        # reach this process; a Redis that is down does not stop the server from starting.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), timeout=3)
        if not self.connected.is_set():
            logger.warning(
                "Redis at %s unreachable; chat events stay local until it is", redact_url(self.url)
            )

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self.feeds.close()
        await self._publisher.aclose()

    async def publish(self, project_id: int, message_id: int) -> None:
        self.feeds.notify(project_id, message_id)
        try:
            await asyncio.wait_for(
                self._publisher.publish(self.channel, f"{project_id}:{message_id}"),
                timeout=_PUBLISH_TIMEOUT,
            )
        except (RedisError, OSError, TimeoutError):
            self._unpublished[project_id] = max(message_id, self._unpublished.get(project_id, 0))
            logger.warning("Redis publish failed; chat event %s/%s queued", project_id, message_id)

    async def revoke(self, token_hashes: Collection[str]) -> None:
        open_sockets.end(token_hashes)
        pending = list(token_hashes)
        for start in range(0, len(pending), _REVOCATION_BATCH):
            batch = pending[start : start + _REVOCATION_BATCH]
            try:
                await asyncio.wait_for(
                    self._publisher.publish(self.revocations_channel, " ".join(batch)),
                    timeout=_PUBLISH_TIMEOUT,
                )
            except (RedisError, OSError, TimeoutError):
                rest = pending[start:]
                room = _MAX_UNPUBLISHED_REVOCATIONS - len(self._unpublished_revocations)
                self._unpublished_revocations.update(rest[: max(room, 0)])
                logger.warning("Redis publish failed; %d token revocations queued", len(rest))
                return

    async def _flush_unpublished(self) -> None:
        pending, self._unpublished = self._unpublished, {}
        for project_id, message_id in pending.items():
            await self.publish(project_id, message_id)
        revoked, self._unpublished_revocations = self._unpublished_revocations, set()
        await self.revoke(revoked)

    async def _listen(self) -> None:
        backoff = _BACKOFF_FIRST
        while True:
            client = _client(self.url)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel, self.revocations_channel)
                if self.reconnects:
                    logger.info("Redis listener reconnected")
                self.reconnects += 1
                self.connected.set()
                backoff = _BACKOFF_FIRST
                # Whatever was committed while we were not listening is in the database.
                self.feeds.resync()
                await self._flush_unpublished()
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is None or message.get("type") != "message":
                        continue
                    if message["channel"] == self.revocations_channel:
                        self._end_sockets(message["data"])
                    else:
                        self._dispatch(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.connected.clear()
                logger.warning("Redis listener lost (%s); retrying in %.1fs", error, backoff)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(backoff * random.uniform(0.8, 1.2))
            backoff = min(backoff * 2, _BACKOFF_MAX)

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
