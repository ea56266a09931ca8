"""OpenTelemetry tracing, off unless the standard OTEL_* variables name an exporter or endpoint.

When on: a span per HTTP request (named by route template), one per GraphQL operation, one per
SQL statement and Redis command, and one per RQ job, joined to the request that queued it. When
off, nothing here runs: no middleware, no extension, no listener (README "Operating").
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import propagate, trace

from core.settings import Settings
from resolvers.deps import Services

if TYPE_CHECKING:  # the SDK is imported only when tracing is on (it costs start-up time)
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

SERVICE = "accounts-graphql"
# Probes and scrapes every few seconds from every process would drown the requests.
UNTRACED_PATHS = "/metrics,/livez,/ready,/health"


def tracer_provider(settings: Settings) -> TracerProvider | None:
    """The process's provider for `settings` (None when tracing is off). The SDK reads the
    service name, resource attributes, sampler and the exporter's endpoint and headers itself."""
    if not settings.tracing:
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": SERVICE}
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(_exporter(settings)))
    return provider


def _exporter(settings: Settings) -> SpanExporter:
    if settings.otel_traces_exporter == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # OTLP over HTTP: OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT


def instrument(services: Services, provider: TracerProvider) -> None:
    """SQL spans on these engines, Redis spans on this client (no process-wide patching)."""
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import NoOpMeter

    usage = NoOpMeter("sqlalchemy").create_up_down_counter("db.client.connections.usage")
    tracer = provider.get_tracer("opentelemetry.instrumentation.sqlalchemy")
    for engine in services.db.engines:
        EngineTracer(tracer, engine.sync_engine, usage)  # type: ignore[no-untyped-call]
    if services.redis is not None:
        RedisInstrumentor.instrument_client(services.redis, tracer_provider=provider)


def http_span_details(scope: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The method alone until the route is matched (the access middleware renames the span
    `GET /users/{user_id}`): a raw path would give every user id a span name of its own."""
    return str(scope.get("method", "HTTP")), {}


def request_span() -> trace.Span:
    return trace.get_current_span()


def name_http_span(span: trace.Span, method: str, route: str) -> None:
    span.update_name(f"{method} {route}")
    span.set_attribute("http.route", route)


@contextmanager
def job_span(
    settings: Settings, name: str, carrier: Mapping[str, str], tracing: TracerProvider | None = None
) -> Iterator[TracerProvider | None]:
    """A consumer span for a job, child of the request that queued it (`carrier`, the job's
    meta). Jobs run in forked horses that exit without flushing: unless given one (`tracing`),
    the provider is this job's own, shut down (flushed) at the end. Yields it, or None."""
    provider = tracing or tracer_provider(settings)
    if provider is None:
        yield None
        return
    tracer = provider.get_tracer("accounts-graphql.jobs")
    parent = propagate.extract(dict(carrier))
    try:
        with tracer.start_as_current_span(name, context=parent, kind=trace.SpanKind.CONSUMER):
            yield provider
    finally:
        if tracing is None:
            provider.shutdown()
