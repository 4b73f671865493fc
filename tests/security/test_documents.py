"""Documents that cost too much, caches that grow with them, and validation that leaks the
schema, probed against a `server.py` process whose CPU time and memory are read from /proc.

Every document up to MAX_BODY_BYTES is answered or refused in a fraction of a second of the
server's CPU, by POST and by GET, while /livez keeps answering; refusals carry
GRAPHQL_PARSE_FAILED or GRAPHQL_VALIDATION_FAILED and name the limit passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support_processes import PROCESSES, api_for, server_process

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
# Server CPU one document may cost here. The goal is 100 ms; the bound leaves room for a
# loaded machine, and the unfixed server missed it by seconds (fan-out of 20 fragments: 4.8 s).
CPU_PER_DOCUMENT = 0.5
# A 0.9 MB document: under MAX_BODY_BYTES once in JSON.
BIG = 900_000


def fan_out(fragments: int, leaf: str = "id") -> str:
    """`{ me { ...F0 } }`, each fragment spreading the next twice: 2**fragments leaves."""
    chain = " ".join(
        f"fragment F{i} on User {{ ...F{i + 1} ...F{i + 1} }}" for i in range(fragments)
    )
    return f"{{ me {{ ...F0 }} }} {chain} fragment F{fragments} on User {{ {leaf} }}"


ANSWERED = {"data": {"me": None}}
# (what, document, code of the refusal or None when answered, a word of its message)
ATTACKS: list[tuple[str, str, str | None, str]] = [
    ("fan-out of 20 fragments", fan_out(20), None, ""),
    ("fan-out of 40 fragments", fan_out(40), None, ""),
    ("fan-out of 40 with an alias", fan_out(40, "a: id"), VALIDATION_FAILED, "aliases"),
    ("490 copies of one field", "{ " + "me { id } " * 490 + "}", VALIDATION_FAILED, "selections"),
    (
        "150 fragments spread in one place",
        "{ me { "
        + " ".join(f"...F{i}" for i in range(150))
        + " } } "
        + " ".join(f"fragment F{i} on User {{ id }}" for i in range(150)),
        VALIDATION_FAILED,
        "fragments",
    ),
    (
        "aliased introspection",
        "{ __schema { ...S } } fragment S on __Schema { "
        + " ".join(f"t{i}: types {{ name fields {{ name type {{ name }} }} }}" for i in range(29))
        + " }",
        VALIDATION_FAILED,
        "aliased",
    ),
    ("150 levels deep", "{ a " + "{ a " * 150 + "}" * 151, VALIDATION_FAILED, "depth"),
    ("2,500 tokens", "{ " + "__typename " * 2500 + "}", PARSE_FAILED, "tokens"),
    (
        "1,990 unknown fields",
        "{ me { " + " ".join(f"x{i}" for i in range(1990)) + " } }",
        VALIDATION_FAILED,
        "",
    ),
    (
        "480 unused variables",
        "query(" + " ".join(f"$v{i}: Int" for i in range(480)) + ") { me { id } }",
        VALIDATION_FAILED,
        "",
    ),
    ("280 directives", "{ me { id " + "@skip(if: false) " * 280 + "} }", VALIDATION_FAILED, ""),
    ("a 0.9 MB comment", "{ me { id } }\n#" + "x" * BIG, PARSE_FAILED, "characters"),
    ("a 0.9 MB string", '{ project(id: "' + "x" * BIG + '") { id } }', PARSE_FAILED, "characters"),
    (
        "a 0.9 MB block string",
        '{ project(id: """' + "xxxxxxxxx\n" * (BIG // 10) + '""") { id } }',
        PARSE_FAILED,
        "characters",
    ),
    ("0.9 MB of commas", "{ me { id } }" + "," * BIG, PARSE_FAILED, "characters"),
]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process `pid` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@contextlib.asynccontextmanager
async def server(
    tmp_path: Path, env: dict[str, str] | None = None
) -> AsyncIterator[tuple[str, int]]:
    """A `server.py` process (GraphiQL off, so the schema is hidden from anonymous callers):
    its URL and process id."""
    database = f"sqlite://{tmp_path / 'db.sqlite3'}"
    async with server_process(database, "", tmp_path, env=env) as url:
        yield url, PROCESSES[url].pid


@contextlib.asynccontextmanager
async def livez_latencies(url: str) -> AsyncIterator[list[float]]:
    """Polls /livez all along the block; yields the seconds each answer took."""
    latencies: list[float] = []

    async def poll() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=120) as client:
            while True:
                started = time.monotonic()
                assert (await client.get("/livez")).status_code == 200
                latencies.append(time.monotonic() - started)
                await asyncio.sleep(0.02)

    task = asyncio.create_task(poll())
    try:
        yield latencies
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def check_outcome(body: dict[str, Any], code: str | None, word: str) -> None:
    if code is None:
        assert body == ANSWERED, body
        return
    assert body.get("data") is None, body
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert codes == {code}, body
    assert word in body["errors"][0]["message"], body


async def send(client: httpx.AsyncClient, method: str, document: str) -> dict[str, Any]:
    if method == "GET":
        response = await client.get("/graphql", params={"query": document})
    else:
        response = await client.post("/graphql", json={"query": document})
    assert response.status_code in (200, 400), response.text[:500]
    return dict(response.json())


async def test_costly_documents_are_answered_or_refused_cheaply_by_post_and_get(
    tmp_path: Path,
) -> None:
    async with server(tmp_path) as (url, pid), livez_latencies(url) as latencies:
        async with httpx.AsyncClient(base_url=url, timeout=120) as client:
            for what, document, code, word in ATTACKS:
                # GET carries what fits in a URL; the 0.9 MB documents go by POST.
                methods = ("POST", "GET") if len(document) < 60_000 else ("POST",)
                for method in methods:
                    # A comment of its own, so that it is not answered from a cache.
                    before = cpu_seconds(pid)
                    body = await send(client, method, f"{document}\n# by {method}")
                    spent = cpu_seconds(pid) - before
                    assert spent < CPU_PER_DOCUMENT, f"{what} by {method}: {spent:.2f} s of CPU"
                    check_outcome(body, code, word)
        # The server kept answering its liveness probe throughout.
        assert latencies and max(latencies) < 1.0, max(latencies)


# The document caches' bound in all (DOCUMENT_CACHE_MIB) for the test below: room for about
# 13 documents at the token limit, against the 128 the caches' entry bounds would keep.
CACHE_MIB = 16
# Distinct documents at the token limit sent: fifteen times what the caches keep. They grew
# the server by 13 MiB; with caches bounded in entries only, by over 100 MiB; with dropped
# documents left to the collector (tokens still linked both ways), by 43 MiB.
DISTINCT = 200


@pytest.mark.long
async def test_distinct_documents_leave_memory_where_it_was(tmp_path: Path) -> None:
    env = {"DOCUMENT_CACHE_MIB": str(CACHE_MIB)}
    async with server(tmp_path, env) as (url, pid), api_for(url) as api:
        for _ in range(20):  # warm up: the first requests load code and fill pools
            await api.post("{ me { id } }")
        start = rss_mib(pid)
        # The probe: big documents, each with a different comment.
        outcomes = set()
        for i in range(250):
            comment = f"# {i} " + "x" * BIG
            body = await api.post(f"{comment}\n{{ me {{ id }} }}")
            outcomes.add(body["errors"][0]["extensions"]["code"] if "errors" in body else "ok")
        assert rss_mib(pid) - start < 150, (start, rss_mib(pid))
        assert outcomes == {PARSE_FAILED}  # refused before they are lexed
        # Documents at the token limit, each distinct and valid: what the caches keep is
        # bounded in bytes, not only in entries, and what they drop is freed at once
        # (a parsed document was a cycle left to the rarely run garbage collector).
        settled = rss_mib(pid)
        for i in range(DISTINCT):
            operations = " ".join(f"query Q{j} {{ me {{ id }} }}" for j in range(245))
            request = {"query": f"# {i}\n{operations}", "operationName": "Q0"}
            body = (await api.client.post("/graphql", json=request)).json()
            assert body == ANSWERED, body
        # The byte bound allows about CACHE_MIB.
        assert rss_mib(pid) - settled < CACHE_MIB + 12, (settled, rss_mib(pid))


HIDDEN = "The document is not valid against the schema."


async def test_validation_errors_do_not_reveal_a_hidden_schema(tmp_path: Path) -> None:
    async with server(tmp_path) as (url, _), api_for(url) as api:
        member = await api.sign_up("CLIENT")
        missing_argument = "{ project { id } }"
        anonymous = await api.post(missing_argument)
        assert anonymous == {
            "data": None,
            "errors": [
                {
                    "message": HIDDEN,
                    "locations": [{"line": 1, "column": 3}],
                    "extensions": {"code": VALIDATION_FAILED},
                }
            ],
        }
        unknown_field = await api.post("{ me { nam } }")
        assert [e["message"] for e in unknown_field["errors"]] == [HIDDEN]
        # Variables that do not coerce name no input field or type either.
        sign_up = "mutation($i: SignUpInput!) { signUp(input: $i) { token } }"
        variables = await api.post(sign_up, {"i": {"role": "CLIENTT"}})
        assert variables["errors"], variables
        for error in variables["errors"]:
            assert "SignUpInput" not in error["message"] and "email" not in error["message"]
            assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["locations"]
        # What the caller may read keeps its words: the limits, and why introspection fails.
        introspection = await api.post("{ __schema { queryType { name } } }")
        assert "introspection" in introspection["errors"][0]["message"]
        aliases = await api.post("{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }")
        assert "aliases" in aliases["errors"][0]["message"]

        # A caller the schema is revealed to (signed in, INTROSPECTION=auto) reads it all.
        revealed = await api.post(missing_argument, None, member.token)
        assert "Query.project(id:)" in revealed["errors"][0]["message"], revealed
