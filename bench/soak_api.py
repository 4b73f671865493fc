"""The soak run's GraphQL over HTTP: every request counted by kind with its latency, every
failure counted by kind with a first example (bench/soak.py)."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import httpx

from bench.seeding import Call


class Stats:
    """Requests by kind with their latencies, errors by kind with a first example of each."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.latencies: dict[str, list[float]] = {}
        self.errors: Counter[str] = Counter()
        self.examples: dict[str, str] = {}
        self.behind: Counter[str] = Counter()

    def error(self, kind: str, example: str = "") -> None:
        self.errors[kind] += 1
        self.examples.setdefault(kind, example[:300])


class ApiError(RuntimeError):
    """A call made while seeding or checking failed; the run cannot go on."""


class Api:
    """POST /graphql; every failure is counted under the operation's kind and gives None."""

    def __init__(self, http: httpx.AsyncClient, stats: Stats) -> None:
        self.http = http
        self.stats = stats

    async def call(
        self,
        kind: str,
        query: str,
        variables: dict[str, Any] | None,
        token: str,
        payload: str | None = None,
    ) -> dict[str, Any] | None:
        self.stats.requests[kind] += 1
        started = time.perf_counter()
        try:
            response = await self.http.post(
                "/graphql",
                json={"query": query, "variables": variables or {}},
                headers={"Authorization": f"Bearer {token}"} if token else {},
            )
        except httpx.HTTPError as e:
            self.stats.error(f"{kind}: {type(e).__name__}", str(e))
            return None
        self.stats.latencies.setdefault(kind, []).append(time.perf_counter() - started)
        return self._answer(kind, response, payload)

    def _answer(
        self, kind: str, response: httpx.Response, payload: str | None
    ) -> dict[str, Any] | None:
        """The data (or its `payload` field), or None with the failure counted."""
        if response.status_code != 200:
            self.stats.error(f"{kind}: HTTP {response.status_code}", response.text)
            return None
        try:
            body = response.json()
        except ValueError:
            self.stats.error(f"{kind}: response is not JSON", response.text)
            return None
        if body.get("errors"):
            codes = sorted(
                {str((e.get("extensions") or {}).get("code", "no code")) for e in body["errors"]}
            )
            self.stats.error(f"{kind}: GraphQL error {','.join(codes)}", json.dumps(body))
            return None
        data = body.get("data") or {}
        if payload is None:
            return data
        result = data.get(payload)
        if result is None or result.get("errors"):
            codes = sorted({e["code"] for e in (result or {}).get("errors", [])}) or ["null"]
            self.stats.error(f"{kind}: user error {','.join(codes)}", json.dumps(body))
            return None
        return result

    async def must(
        self,
        kind: str,
        query: str,
        variables: dict[str, Any] | None,
        token: str,
        payload: str | None = None,
    ) -> dict[str, Any]:
        result = await self.call(kind, query, variables, token, payload)
        if result is None:
            key = next(k for k in self.stats.errors if k.startswith(f"{kind}:"))
            raise ApiError(f"{key}: {self.stats.examples[key]}")
        return result

    def seeder(self) -> Call:
        """The calls that seed: counted as "seed", and any failure ends the run."""

        async def call(
            query: str, variables: dict[str, Any] | None, token: str, payload: str
        ) -> dict[str, Any]:
            return await self.must("seed", query, variables, token, payload)

        return call
