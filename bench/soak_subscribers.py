"""The soak run's subscribers: one WebSocket with one chatEvents subscription each, keeping
the ids they received, in order (bench/soak.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from bench.soak_api import ApiError, Stats
from bench.soak_plan import SUBSCRIPTION

PROTOCOL = Subprotocol("graphql-transport-ws")


class Subscriber:
    """One WebSocket with one chatEvents subscription; keeps the ids it received, in order."""

    def __init__(self, project_id: str, token: str, stats: Stats) -> None:
        self.project_id = project_id
        self.token = token
        self.stats = stats
        self.received: list[str] = []
        self.arrived: list[float] = []
        self.ended_early = False  # its socket ended before the run closed it
        self.closing = False
        self.ws: ClientConnection | None = None
        self.reader: asyncio.Task[None] | None = None

    async def open(self, url: str) -> None:
        self.ws = await connect(url, subprotocols=[PROTOCOL], open_timeout=60)
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {self.token}"}}
        await self.ws.send(json.dumps(init))
        ack = json.loads(await asyncio.wait_for(self.ws.recv(), 30))
        if ack.get("type") != "connection_ack":
            raise ApiError(f"connection_init answered with {ack}")
        payload = {"query": SUBSCRIPTION, "variables": {"id": self.project_id}}
        await self.ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        self.reader = asyncio.create_task(self._read(self.ws))

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                await self._take(ws, json.loads(raw), time.perf_counter())
        except ConnectionClosed:
            pass
        except Exception as e:  # a message this client cannot read is an error too
            self.ended_early = not self.closing
            self.stats.error(f"subscription: unreadable message ({type(e).__name__})", str(e))
            with contextlib.suppress(Exception):
                await ws.close()
            return
        if not self.closing:
            self.ended_early = True
            self.stats.error(
                f"socket closed by the server: code {ws.close_code}", str(ws.close_reason)
            )

    async def _take(self, ws: ClientConnection, message: dict, now: float) -> None:
        """One message of the protocol: an event kept, a ping answered, anything else an error."""
        kind = message.get("type")
        if kind == "next":
            payload = message.get("payload") or {}
            if payload.get("errors"):
                self.stats.error("subscription: GraphQL error", json.dumps(payload))
            event = (payload.get("data") or {}).get("chatEvents")
            if event:
                self.received.append(event["id"])
                self.arrived.append(now)
        elif kind == "ping":
            await ws.send(json.dumps({"type": "pong"}))
        elif kind != "pong":
            self.stats.error(f"subscription: {kind} message", json.dumps(message))

    async def close(self) -> None:
        self.closing = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self.reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.reader, 10)
