"""`/health`, `/ready`, `/metrics`: routed by the app (`server.app`), declared here to be documented.

They answer in their own shapes, not the legacy envelope. `/graphql` is left out: its contract is
`schema.graphql`, which an OpenAPI operation could only call "a JSON object".
"""

from __future__ import annotations

from server.rest.routing import Operation

OPERATIONS = (
    Operation(
        "GET", "/health", None, "What each backing service answers",
        returns="Health", envelope=False,
        description="Always 200; `status` is `degraded` when a service is `down`.",
    ),
    Operation(
        "GET", "/ready", None, "Whether this process takes traffic",
        returns="Readiness", envelope=False, also=(503,),
        description="503 while the database does not answer or the server is draining.",
    ),
    Operation(
        "GET", "/metrics", None, "Prometheus metrics", media_type="text/plain",
        refusals=(403, 404),
        description="With METRICS_TOKEN set, only `Authorization: Bearer <token>` may read "
        "(403 otherwise); in production without a token it is not served (404).",
    ),
)  # fmt: skip
