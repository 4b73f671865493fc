"""What client libraries rely on, over real HTTP: error codes on documents that cannot run,
GraphQL over HTTP's application/graphql-response+json, and Apollo's automatic persisted
queries (APQ)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import RunningServer
from tests.support_processes import server_process

GRAPHQL_RESPONSE = "application/graphql-response+json"
ME = "query Me { me { id } }"


def sha(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def persisted(document: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha(document)}}


@pytest.fixture
async def http(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        yield client


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body["errors"]]


# Error codes -------------------------------------------------------------------------------


async def test_a_document_that_does_not_parse_is_graphql_parse_failed(
    http: httpx.AsyncClient,
) -> None:
    body = (await http.post("/graphql", json={"query": "{ me { "})).json()
    assert codes(body) == ["GRAPHQL_PARSE_FAILED"]
    assert body["errors"][0]["message"].startswith("Syntax Error")
    # The token limit is a parse limit too.
    many = "{ " + "__typename " * 2500 + "}"
    assert codes((await http.post("/graphql", json={"query": many})).json()) == [
        "GRAPHQL_PARSE_FAILED"
    ]


async def test_a_document_that_does_not_validate_is_graphql_validation_failed(
    http: httpx.AsyncClient,
) -> None:
    body = (await http.post("/graphql", json={"query": "{ nope }"})).json()
    assert body["data"] is None and codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    aliases = "{ " + " ".join(f"a{i}: __typename" for i in range(40)) + " }"
    assert codes((await http.post("/graphql", json={"query": aliases})).json()) == [
        "GRAPHQL_VALIDATION_FAILED"
    ]
    # Twice: validation is cached, and the cached errors must come back coded as well.
    again = (await http.post("/graphql", json={"query": "{ nope }"})).json()
    assert codes(again) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_the_cost_limit_keeps_its_own_code(http: httpx.AsyncClient) -> None:
    costly = "{ projects(first: 100) { edges { node { milestones { id } chat(last: 100) { edges { node { id } } } } } } }"
    body = (await http.post("/graphql", json={"query": costly})).json()
    assert codes(body) == ["COST_LIMIT_EXCEEDED"]


# application/graphql-response+json ---------------------------------------------------------


async def test_graphql_response_json_is_answered_in_kind(http: httpx.AsyncClient) -> None:
    accept = {"Accept": GRAPHQL_RESPONSE}
    ran = await http.post("/graphql", json={"query": "{ __typename }"}, headers=accept)
    assert ran.status_code == 200
    assert ran.headers["content-type"] == GRAPHQL_RESPONSE
    assert ran.json() == {"data": {"__typename": "Query"}}

    # Failed before execution: 4xx and no `data` entry at all.
    for query, code in (
        ("{ me { ", "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", "GRAPHQL_VALIDATION_FAILED"),
    ):
        refused = await http.post("/graphql", json={"query": query}, headers=accept)
        assert refused.status_code == 400, refused.text
        assert refused.headers["content-type"] == GRAPHQL_RESPONSE
        assert "data" not in refused.json() and codes(refused.json()) == [code]

    # Executed, with a field error: 200 and `data`.
    denied = await http.post(
        "/graphql", json={"query": "{ projects { totalCount } }"}, headers=accept
    )
    assert denied.status_code == 200 and denied.json()["data"] is None
    assert codes(denied.json()) == ["UNAUTHENTICATED"]

    # A body that is not JSON: 400, in the media type asked for.
    broken = await http.post(
        "/graphql", content=b"{", headers=accept | {"Content-Type": "application/json"}
    )
    assert broken.status_code == 400 and broken.headers["content-type"] == GRAPHQL_RESPONSE


async def test_plain_json_keeps_the_legacy_behaviour(http: httpx.AsyncClient) -> None:
    for accept in ("application/json", "*/*", f"application/json, {GRAPHQL_RESPONSE};q=0.5"):
        refused = await http.post(
            "/graphql", json={"query": "{ nope }"}, headers={"Accept": accept}
        )
        assert refused.status_code == 200
        assert refused.headers["content-type"] == "application/json"
        assert refused.json()["data"] is None
        assert codes(refused.json()) == ["GRAPHQL_VALIDATION_FAILED"]
    # Both listed, equally good: the spec's own type wins.
    both = await http.post(
        "/graphql",
        json={"query": "{ nope }"},
        headers={"Accept": f"{GRAPHQL_RESPONSE}, application/json"},
    )
    assert both.status_code == 400 and both.headers["content-type"] == GRAPHQL_RESPONSE


# Automatic persisted queries ---------------------------------------------------------------


async def test_apq_round_trip(http: httpx.AsyncClient) -> None:
    document = "query Typename { __typename }"
    ext = persisted(document)
    first = (await http.post("/graphql", json={"extensions": ext})).json()
    assert first["errors"] == [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]
    sent = (await http.post("/graphql", json={"query": document, "extensions": ext})).json()
    assert sent == {"data": {"__typename": "Query"}}
    again = (await http.post("/graphql", json={"extensions": ext})).json()
    assert again == {"data": {"__typename": "Query"}}


async def test_apq_with_variables_and_a_token(http: httpx.AsyncClient) -> None:
    document = "query Echo($first: Int) { me { id } projects(first: $first) { totalCount } }"
    ext = persisted(document)
    await http.post("/graphql", json={"query": document, "extensions": ext})
    anonymous = (
        await http.post("/graphql", json={"extensions": ext, "variables": {"first": 1}})
    ).json()
    # The stored document ran, with this request's variables and (no) token.
    assert codes(anonymous) == ["UNAUTHENTICATED"]


async def test_a_hash_that_does_not_match_the_query_is_refused(http: httpx.AsyncClient) -> None:
    ext = persisted("{ me { id } }")
    body = (await http.post("/graphql", json={"query": "{ __typename }", "extensions": ext})).json()
    assert codes(body) == ["BAD_REQUEST"] and "does not match" in body["errors"][0]["message"]
    # Nothing was stored under that hash: the other document is not served for it.
    lookup = (await http.post("/graphql", json={"extensions": ext})).json()
    assert codes(lookup) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_a_document_that_fails_validation_is_not_kept(http: httpx.AsyncClient) -> None:
    document = "{ notAField }"
    ext = persisted(document)
    sent = (await http.post("/graphql", json={"query": document, "extensions": ext})).json()
    assert codes(sent) == ["GRAPHQL_VALIDATION_FAILED"]
    assert codes((await http.post("/graphql", json={"extensions": ext})).json()) == [
        "PERSISTED_QUERY_NOT_FOUND"
    ]


async def test_apq_by_get_runs_queries_never_mutations(http: httpx.AsyncClient) -> None:
    document = "query ByGet { __typename }"
    params = {"extensions": json.dumps(persisted(document))}
    missing = (
        await http.get("/graphql", params=params, headers={"Accept": "application/json"})
    ).json()
    assert codes(missing) == ["PERSISTED_QUERY_NOT_FOUND"]
    await http.get("/graphql", params=params | {"query": document})
    found = await http.get("/graphql", params=params)
    assert found.status_code == 200 and found.json() == {"data": {"__typename": "Query"}}

    mutation = "mutation { logOut }"
    mext = {"extensions": json.dumps(persisted(mutation))}
    await http.post("/graphql", json={"query": mutation, "extensions": persisted(mutation)})
    # The server knows the document: POST runs it by its hash alone...
    by_post = (await http.post("/graphql", json={"extensions": persisted(mutation)})).json()
    assert "PERSISTED_QUERY_NOT_FOUND" not in codes(by_post), by_post
    # ...yet GET does not run it.
    by_get = await http.get("/graphql", params=mext, headers={"Accept": GRAPHQL_RESPONSE})
    assert by_get.status_code == 405, by_get.text  # GraphQL over HTTP: a MUST
    assert "mutation" in by_get.json()["errors"][0]["message"]


async def test_unsupported_versions_are_refused(http: httpx.AsyncClient) -> None:
    ext = {"persistedQuery": {"version": 2, "sha256Hash": sha("{ __typename }")}}
    body = (await http.post("/graphql", json={"extensions": ext})).json()
    assert codes(body) == ["PERSISTED_QUERY_NOT_SUPPORTED"]


async def test_the_document_store_keeps_to_its_bounds(tmp_path: Path) -> None:
    bounds = {"PERSISTED_QUERIES_MAX_ENTRIES": "3", "PERSISTED_QUERIES_MAX_BYTES": "180"}
    database = f"sqlite://{tmp_path / 'db.sqlite3'}"
    async with (
        server_process(database, "", tmp_path, env=bounds) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):

        async def send(document: str) -> None:
            body = {"query": document, "extensions": persisted(document)}
            answer = (await http.post("/graphql", json=body)).json()
            assert answer == {"data": {"__typename": "Query"}}

        async def known(document: str) -> bool:
            body = (await http.post("/graphql", json={"extensions": persisted(document)})).json()
            return "errors" not in body

        documents = [f"query Q{i} {{ __typename }}" for i in range(4)]  # 23 bytes each
        for document in documents[:3]:
            await send(document)
        assert await known(documents[0])  # read: now the most recently used
        await send(documents[3])  # a fourth entry: the least recently used, Q1, goes
        assert [await known(d) for d in documents] == [True, False, True, True]

        # Bytes too: 145 more bytes push out the oldest until the total fits in 180.
        big = "query Big { " + "__typename " * 12 + "}"
        assert len(big) == 145
        await send(big)
        assert [await known(d) for d in documents] == [False, False, False, True]
        assert await known(big)
        # A document larger than the whole store runs, is not kept, and evicts nothing.
        huge = "query Huge { " + "__typename " * 20 + "}"
        await send(huge)
        assert not await known(huge)
        assert await known(big) and await known(documents[3])
