"""TRACING=1: each operation becomes OpenTelemetry spans, with no password or document in them.

The suite's server runs in this process, so its schema is traced here the way the server
traces it when TRACING=1 (`schema.tracing.tracing`), into the SDK's in-memory exporter.
"""

from __future__ import annotations

import json

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from schema.schema import schema
from schema.tracing import tracing
from tests.support import PASSWORD, Api

LOG_IN = """mutation SignIn($input: LogInInput!) {
  logIn(input: $input) { errors { code } token } }"""

_exporter = InMemorySpanExporter()


@pytest.fixture(scope="module")
def spans() -> InMemorySpanExporter:
    # Once per process (OpenTelemetry keeps the first provider set); the server keeps it.
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(_exporter))
    trace.set_tracer_provider(provider)
    return _exporter


async def test_operations_make_spans_without_secrets(api: Api, spans: InMemorySpanExporter) -> None:
    user = await api.sign_up("FREELANCER")
    spans.clear()
    with tracing(schema, enabled=True):
        await api.data("query Me { me { id name } }", token=user.token)
        body = await api.post(LOG_IN, {"input": {"email": user.email, "password": PASSWORD}})
        assert body["data"]["logIn"]["token"]
    names = [span.name for span in spans.get_finished_spans()]
    assert "GraphQL Query: Me" in names and "GraphQL Query: SignIn" in names
    assert "GraphQL Parsing" in names and "GraphQL Validation" in names
    assert "GraphQL Resolving: me" in names and "GraphQL Resolving: logIn" in names
    me = next(s for s in spans.get_finished_spans() if s.name == "GraphQL Query: Me")
    resolving = next(s for s in spans.get_finished_spans() if s.name == "GraphQL Resolving: me")
    assert resolving.context.trace_id == me.context.trace_id
    recorded = json.dumps([dict(span.attributes or {}) for span in spans.get_finished_spans()])
    assert PASSWORD not in recorded and body["data"]["logIn"]["token"] not in recorded
    # The document's text is not recorded either (it may hold a password inline).
    assert "mutation SignIn" not in recorded and "me { id name }" not in recorded
    assert all("query" not in (span.attributes or {}) for span in spans.get_finished_spans())

    # Off again: no more spans.
    spans.clear()
    await api.data("query Me { me { id } }", token=user.token)
    assert spans.get_finished_spans() == ()
