"""Metric definitions, one place for every counter the service keeps.

prometheus-client picks its storage when the process starts: with PROMETHEUS_MULTIPROC_DIR set
(several uvicorn workers, the rq worker) values live in files that `/metrics` aggregates.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests by method, route template and status",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency by route template",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
GRAPHQL_LATENCY = Histogram(
    "graphql_operation_duration_seconds",
    "GraphQL operation latency by operation name and type",
    ["operation_name", "operation_type"],
    buckets=LATENCY_BUCKETS,
)
GRAPHQL_ERRORS = Counter("graphql_errors_total", "GraphQL errors by code", ["code"])
GRAPHQL_PATHS = Counter(
    "graphql_http_path_total",
    "GraphQL operations by the path that ran them (short: one JSON operation; full: the view)",
    ["path"],
)
GRAPHQL_PLANS = Counter(
    "graphql_plans_total",
    "Execution plan lookups by result: hit, miss (planned now), standard (graphql-core runs it)",
    ["result"],
)
GRAPHQL_PLANS_CACHED = Gauge("graphql_plans_cached", "Execution plans held in the plan cache")
RESOLVER_LATENCY = Histogram(
    "graphql_resolver_duration_seconds",
    "Time in root-field resolvers",
    ["field"],
    buckets=LATENCY_BUCKETS,
)
DB_POOL_IN_USE = Gauge(
    "db_pool_connections_in_use", "Database connections checked out", multiprocess_mode="livesum"
)
DB_POOL_WAITS = Counter(
    "db_pool_waits_total", "Checkouts that had to open a connection or wait for one"
)
CACHE_LOOKUPS = Counter("cache_lookups_total", "Cache lookups by result", ["result"])
RATE_LIMITED = Counter("rate_limit_rejections_total", "Requests refused by a rate limit", ["scope"])
AUTH_EVENTS = Counter("auth_events_total", "Logins, refreshes and reuse detections", ["event"])
EXPORT_JOBS = Counter("export_jobs_total", "Export jobs reaching a status", ["status"])
EXPORT_QUEUE_DEPTH = Gauge(
    "export_queue_depth", "Export jobs waiting to run", multiprocess_mode="max"
)
EXPORT_QUEUE_AGE = Gauge(
    "export_queue_age_seconds",
    "Seconds the oldest queued export job has waited (0 when none waits)",
    multiprocess_mode="max",
)
