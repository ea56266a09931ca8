"""`/health`, `/ready`, `/metrics`: routed by the app (`server.app`), declared here to be documented.

They answer in the legacy envelope, as the legacy `/health` did. `/graphql` is left out: its contract is
`schema.graphql`, which an OpenAPI operation could only call "a JSON object".
"""

from __future__ import annotations

from server.rest.routing import Operation

OPERATIONS = (
    Operation(
        "GET", "/health", None, "What each backing service answers",
        returns="Health",
        description="Always 200; `status` is `degraded` when a service is `down`.",
    ),
    Operation(
        "GET", "/ready", None, "Whether this process takes traffic",
        returns="Readiness", refusals=(503,),
        description="503 `SERVICE_UNAVAILABLE` while the database does not answer or the "
        "server is draining (Redis failures degrade, they do not stop service); `details` "
        "then holds the same report, with `status` `unavailable` or `draining`.",
    ),
    Operation(
        "GET", "/metrics", None, "Prometheus metrics", media_type="text/plain",
        refusals=(403, 404),
        description="With METRICS_TOKEN set, only `Authorization: Bearer <token>` may read "
        "(403 otherwise); in production without a token it is not served (404).",
    ),
)  # fmt: skip
