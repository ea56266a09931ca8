"""The web composition root: `create_app(settings)` builds the whole server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route, WebSocketRoute

from core.settings import Settings
from resolvers.accounts import create_first_admin
from resolvers.bootstrap import bootstrap
from server.background import background
from server.error_handlers import EXCEPTION_HANDLERS
from server.graphiql import PREFIX as GRAPHIQL_ASSETS
from server.graphiql import graphiql_assets
from server.graphql_view import GraphQLView
from server.health import health, livez, ready
from server.metrics_endpoint import MetricsApp
from server.middleware.authentication import AuthenticationMiddleware
from server.middleware.body_limit import BodyLimitMiddleware
from server.middleware.observability import ObservabilityMiddleware
from server.middleware.request_id import RequestIdMiddleware
from server.middleware.security_headers import SecurityHeadersMiddleware
from server.middleware.unexpected import UnexpectedErrorMiddleware
from server.rest import rest_routes
from server.rest.docs_page import PREFIX as DOCS_ASSETS

if TYPE_CHECKING:  # the SDK and the instrumentation are imported only when tracing is on
    from opentelemetry.sdk.trace import TracerProvider

from server.tracing import UNTRACED_PATHS, http_span_details, instrument, tracer_provider

# What browsers may send: ours, then what Apollo Client, urql and tracing add (W3C trace
# context and baggage, Sentry); CORS_ALLOW_HEADERS adds more.
CORS_ALLOW_HEADERS = (
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "X-Request-ID",
    "apollographql-client-name",
    "apollographql-client-version",
    "traceparent",
    "tracestate",
    "baggage",
    "sentry-trace",
)
# What a page's script may read of an answer (the rate-limit fields: server/error_handlers.py).
CORS_EXPOSE_HEADERS = [
    "ETag",
    "X-Request-ID",
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "RateLimit-Policy",
]


def create_app(settings: Settings, tracing: TracerProvider | None = None) -> Starlette:
    """The ASGI application for `settings`; resources open in its lifespan, never at import.
    Traced when OTEL_* says so, or through `tracing` (the tests' in-memory exporter)."""
    provider = tracing or tracer_provider(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with bootstrap(settings) as services:
            if provider is not None:
                instrument(services, provider)
            app.state.services = services
            await create_first_admin(services)
            async with background(services):
                yield
        if provider is not None and tracing is None:
            provider.shutdown()  # flushes the spans still batched

    tracer = provider.get_tracer("accounts-graphql") if provider is not None else None
    graphql = GraphQLView(settings, tracer)
    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),  # subscriptions over graphql-transport-ws
        *([graphiql_assets()] if settings.graphiql else []),
        Route("/health", health, methods=["GET"]),
        Route("/ready", ready, methods=["GET"]),
        Route("/livez", livez, methods=["GET"]),
        Route("/metrics", MetricsApp(settings), methods=["GET"]),
        *rest_routes(),
    ]
    middleware = [
        *([traced_requests(provider)] if provider is not None else []),
        Middleware(RequestIdMiddleware),
        Middleware(ObservabilityMiddleware, tracing=provider is not None),
        Middleware(
            SecurityHeadersMiddleware,
            hsts=settings.is_prod,
            cacheable=(f"{GRAPHIQL_ASSETS}/", f"{DOCS_ASSETS}/"),
        ),
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=[*CORS_ALLOW_HEADERS, *settings.cors_allow_headers],
            expose_headers=CORS_EXPOSE_HEADERS,
            max_age=600,
        ),
        Middleware(BodyLimitMiddleware, max_bytes=settings.max_content_length),
        Middleware(AuthenticationMiddleware, trusted_proxies=settings.trusted_proxies),
        Middleware(UnexpectedErrorMiddleware),
    ]
    return Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )


def traced_requests(provider: TracerProvider) -> Middleware:
    """The outermost middleware: a server span per request, continuing the caller's trace."""
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    return Middleware(
        OpenTelemetryMiddleware,
        tracer_provider=provider,
        excluded_urls=UNTRACED_PATHS,
        default_span_details=http_span_details,
        exclude_spans=["receive", "send"],
    )
