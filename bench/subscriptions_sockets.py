"""bench/subscriptions.py's subscribers: one WebSocket each with one chatEvents
subscription, timing when each event arrives and nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Sequence
from typing import Protocol

from websockets.asyncio.client import ClientConnection, connect

SUBSCRIPTION = """subscription($id: ID!) { chatEvents(projectId: $id) {
  id kind body createdAt author { id name } actor { id name } milestone { id title }
  changes { field from to } } }"""


class Target(Protocol):
    """A server the subscribers connect to."""

    @property
    def ws_url(self) -> str: ...


class Subscriber:
    """One connection with one subscription; records when each event arrived."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.arrivals: list[float] = []
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            now = time.perf_counter()
            # Time first, parse never: only the arrival of each `next` matters here.
            if isinstance(raw, str) and '"next"' in raw[:40]:
                self.arrivals.append(now)

    async def close(self) -> None:
        self.reader.cancel()
        with contextlib.suppress(BaseException):
            await self.ws.close()


async def open_subscriber(url: str, token: str, project_id: str, deflate: bool) -> Subscriber:
    ws = await connect(
        url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        compression="deflate" if deflate else None,
        open_timeout=60,
        ping_interval=None,
        max_queue=None,
    )
    await ws.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    )
    ack = json.loads(await ws.recv())
    assert ack["type"] == "connection_ack", ack
    payload = {"query": SUBSCRIPTION, "variables": {"id": project_id}}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    return Subscriber(ws)


async def open_all(
    n: int, servers: Sequence[Target], tokens: list[str], project_id: str, deflate: bool
) -> list[Subscriber]:
    """`n` subscribers, 250 at a time, spread evenly over the servers and the tokens."""
    subscribers: list[Subscriber] = []
    for start in range(0, n, 250):
        subscribers += await asyncio.gather(
            *(
                open_subscriber(
                    servers[i % len(servers)].ws_url,
                    tokens[i % len(tokens)],
                    project_id,
                    deflate,
                )
                for i in range(start, min(n, start + 250))
            )
        )
    return subscribers


async def wait_all(subscribers: list[Subscriber], count: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if all(len(s.arrivals) >= count for s in subscribers):
            return True
        await asyncio.sleep(0.01)
    return False
