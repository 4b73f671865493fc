"""OpenTelemetry spans for every operation (TRACING=1, with the `[tracing]` extra installed).

strawberry's OpenTelemetryExtension makes a span per operation, with its parsing,
validation and resolver spans inside. Two things it would record are left out here:
resolver arguments (logIn's and signUp's carry passwords) and the document's text (it may
hold them inline); the operation's name and type stay.

Where the spans go is the operator's OpenTelemetry set-up: a tracer provider already
installed (by `opentelemetry-instrument`, or a test) is used as it is; otherwise one is
made that exports over OTLP/HTTP as the standard OTEL_* variables say
(OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, ...).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import Any

import strawberry
from strawberry.extensions.base_extension import LifecycleStep

from settings import SettingError

logger = logging.getLogger("milestones.tracing")

SERVICE_NAME = "milestones-api"


def _no_arguments(args: dict[str, Any], info: Any) -> dict[str, Any]:
    return {}


def tracing_available() -> None:
    """Raise SettingError unless the tracing extra is installed."""
    try:
        import opentelemetry.exporter.otlp.proto.http.trace_exporter
        import opentelemetry.sdk.trace  # noqa: F401
    except ImportError:
        raise SettingError(
            "TRACING=1 needs the tracing extra: pip install -e '.[tracing]'"
        ) from None


def _extension_class() -> type:
    tracing_available()
    from opentelemetry import trace
    from strawberry.extensions.tracing import OpenTelemetryExtension

    class RedactedTracing(OpenTelemetryExtension):  # type: ignore[misc]  # untyped without the extra
        def __init__(self, **options: Any) -> None:
            super().__init__(arg_filter=_no_arguments, **options)

        def on_operation(self) -> Generator[None, None, None]:
            # The parent's, without the document's text.
            name = self.execution_context.operation_name
            span = self._tracer.start_span(
                f"GraphQL Query: {name}" if name else "GraphQL Query",
                kind=trace.SpanKind.SERVER,
            )
            span.set_attribute("component", "graphql")
            self._span_holder[LifecycleStep.OPERATION] = span
            yield
            final = self.execution_context.operation_name
            if not name and final:
                span.update_name(f"GraphQL Query: {final}")
            span.end()

    return RedactedTracing


def _ensure_tracer_provider() -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return  # set up by the operator (or a test): theirs to configure
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # OTEL_SERVICE_NAME, when set, names the service; Resource.create reads it.
    named = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": SERVICE_NAME}
    provider = TracerProvider(resource=Resource.create(named))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    logger.info("tracing: spans exported over OTLP/HTTP")


@contextmanager
def tracing(schema: strawberry.Schema, enabled: bool) -> Iterator[None]:
    """Trace `schema`'s operations for the duration of the block, if `enabled`."""
    if not enabled:
        yield
        return
    extension = _extension_class()
    _ensure_tracer_provider()
    before = schema.extensions
    schema.extensions = (*before, extension)
    try:
        yield
    finally:
        schema.extensions = before
