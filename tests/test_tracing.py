"""Observability across hosts: the request id on every log line of a request, and OpenTelemetry
spans (HTTP, one per GraphQL operation, SQL, Redis, the RQ job of the request), checked with the
SDK's in-memory exporter."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import orjson
import pytest
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from core.settings import Settings
from jobs.exports import _run as run_export_job
from server.app import create_app
from server.logging_setup import log_handler
from tests.conftest import Accounts, GraphQLClient, in_app_background
from tests.test_exports import START

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    provider = TracerProvider()
    provider.add_span_processor(RequestSpans(exporter))
    yield provider
    provider.shutdown()


@contextmanager
def log_lines(settings: Settings) -> Iterator[list[dict[str, Any]]]:
    """Every line the server's own handler writes meanwhile, as JSON objects."""
    stream, lines = io.StringIO(), list[dict[str, Any]]()
    handler = log_handler(settings.with_(log_json=True), stream)
    logging.getLogger().addHandler(handler)
    try:
        yield lines
    finally:
        logging.getLogger().removeHandler(handler)
        lines.extend(orjson.loads(line) for line in stream.getvalue().splitlines())


@asynccontextmanager
async def traced(
    settings: Settings, provider: TracerProvider
) -> AsyncIterator[tuple[Any, GraphQLClient]]:
    app = create_app(settings, tracing=provider)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 1))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers={"User-Agent": "ua"}
        ) as http:
            yield app, GraphQLClient(http)


class RequestSpans(SimpleSpanProcessor):
    """Exports every span but those of the app's own background sweep, which may run SQL (its
    purges, in traces of their own) while a test's request is traced."""

    def __init__(self, exporter: InMemorySpanExporter) -> None:
        super().__init__(exporter)
        self.background: set[int] = set()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if in_app_background():
            self.background.add(span.get_span_context().span_id)

    def on_end(self, span: ReadableSpan) -> None:
        if span.context is not None and span.context.span_id in self.background:
            return
        super().on_end(span)


def hex_trace(span: ReadableSpan) -> str:
    assert span.context is not None
    return format(span.context.trace_id, "032x")


async def test_the_request_id_is_on_every_line_of_the_request(
    gql: GraphQLClient, settings: Settings
) -> None:
    with log_lines(settings) as lines:
        await gql(
            'mutation { login(email: "nobody@example.com", password: "wrong password") '
            "{ accessToken } }",
            headers={"X-Request-ID": "req-77"},
        )
    ours = [line for line in lines if line.get("request_id") == "req-77"]
    assert {"app.access", "app.security"} <= {line["logger"] for line in ours}, lines
    security = [line for line in lines if line["logger"] == "app.security"]
    assert security and all(line.get("request_id") == "req-77" for line in security)
    assert all("trace_id" not in line for line in lines)  # tracing is off


async def test_a_request_is_one_trace_of_http_graphql_sql_and_redis_spans(
    settings: Settings, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async with traced(settings, provider) as (app, gql):
        admin = await Accounts(app, gql).admin_token()
        exporter.clear()
        with log_lines(settings.with_(otel_traces_exporter="console")) as lines:
            body = await gql(
                "query Users { users { items { id name email } pageInfo { total } } }",
                token=admin,
                headers={"traceparent": TRACEPARENT, "X-Request-ID": "req-88"},
            )
    assert "errors" not in body, body
    spans = exporter.get_finished_spans()
    assert {hex_trace(span) for span in spans} == {CALLER_TRACE}  # the caller's trace, continued
    (server,) = [span for span in spans if span.kind is SpanKind.SERVER]
    assert server.name == "POST /graphql"
    assert server.attributes is not None and server.attributes["http.route"] == "/graphql"
    operations = [span for span in spans if span.name.startswith(("query ", "mutation "))]
    assert [span.name for span in operations] == ["query Users"]  # one, not one per field
    assert operations[0].parent is not None and server.context is not None
    sql = [span for span in spans if (span.attributes or {}).get("db.system")]
    assert sql, [span.name for span in spans]
    if settings.redis_url is not None:  # the users cache
        assert any((span.attributes or {}).get("db.system") == "redis" for span in spans)
    access = next(line for line in lines if line["logger"] == "app.access")
    assert (access["trace_id"], access["request_id"]) == (CALLER_TRACE, "req-88")


async def test_probes_and_scrapes_are_not_traced(
    settings: Settings, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async with traced(settings, provider) as (app, _gql):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            for path in ("/livez", "/ready", "/metrics", "/health"):
                assert (await http.get(path)).status_code == 200
            await http.get("/users/42")
    names = [span.name for span in exporter.get_finished_spans() if span.kind is SpanKind.SERVER]
    assert names == ["GET /users/{user_id}"]  # the route template, never the raw path


@pytest.mark.mysql_only  # the RQ job's meta travels through Redis
async def test_an_export_job_joins_the_trace_of_the_request_that_queued_it(
    settings: Settings, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    from redis import Redis
    from rq import Queue

    async with traced(settings, provider) as (app, gql):
        admin = await Accounts(app, gql).admin_token()
        started = await gql(START, {}, token=admin, headers={"traceparent": TRACEPARENT})
        job_id = started["data"]["exportUsers"]["id"]
    assert settings.redis_url is not None
    (queued,) = Queue(settings.rq_queue, connection=Redis.from_url(settings.redis_url)).jobs
    assert queued.args == (job_id,)
    exporter.clear()
    assert await run_export_job(settings, job_id, queued.meta, provider) == "finished"
    spans = exporter.get_finished_spans()
    (job,) = [span for span in spans if span.name == "export job"]
    assert job.kind is SpanKind.CONSUMER and hex_trace(job) == CALLER_TRACE
    assert any((span.attributes or {}).get("db.system") for span in spans)  # its SQL, traced
    assert {hex_trace(span) for span in spans} == {CALLER_TRACE}
