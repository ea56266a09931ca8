"""The media type of a GraphQL answer (GraphQL over HTTP, section 6.4).

A client that asks for `application/graphql-response+json` (urql and Apollo Client do, ahead of
`application/json`) gets it, with that type's status codes: a request error (nothing executed:
the document, its variables or a limit refused it) is a 4xx with no `data` entry, while an
executed operation is 200 even when `data` is null. Everyone else gets `application/json`,
where every well-formed GraphQL answer is 200, as before.
"""

from __future__ import annotations

from functools import lru_cache

from starlette.responses import Response
from starlette.types import Scope
from strawberry.types import ExecutionResult

from server.graphql_requests import header
from server.media_type import JSON, media_type

GRAPHQL_RESPONSE = "application/graphql-response+json"
_REQUEST_ERROR = "graphql_request_error"  # the scope state flag process_result leaves


def wants_graphql_response(scope: Scope) -> bool:
    """Whether `Accept` ranks graphql-response+json at least as high as application/json."""
    accept = header(scope, b"accept")
    return b"graphql-response+json" in accept and _prefers_graphql_response(accept)


@lru_cache(maxsize=64)  # a handful of client libraries, each with its one Accept value
def _prefers_graphql_response(accept: bytes) -> bool:
    ranks = _qualities(accept.decode("latin-1"))
    ours = ranks.get(GRAPHQL_RESPONSE, 0.0)
    return ours > 0 and ours >= ranks.get(JSON, 0.0)


def is_request_error(result: ExecutionResult) -> bool:
    """Nothing was executed: every error is about the request, none about a field."""
    errors = result.errors or []
    return result.data is None and bool(errors) and all(e.path is None for e in errors)


def mark_request_error(scope: Scope) -> None:
    scope.setdefault("state", {})[_REQUEST_ERROR] = True


def negotiated(scope: Scope, response: Response) -> Response:
    """`response` in the media type the client asked for, with that type's status."""
    if not wants_graphql_response(scope) or response.headers.get("content-type") != JSON:
        return response
    response.headers["content-type"] = GRAPHQL_RESPONSE
    batch = response.body[:1] == b"["  # one failed operation does not fail the others
    if response.status_code == 200 and not batch and scope.get("state", {}).get(_REQUEST_ERROR):
        response.status_code = 400
    return response


def _qualities(accept: str) -> dict[str, float]:
    """`{type/subtype: q}` of an Accept value; malformed items are skipped."""
    ranks: dict[str, float] = {}
    for item in accept.split(","):
        kind, *parameters = item.split(";")
        name = media_type(kind)
        if name is None:
            continue
        quality = 1.0
        for parameter in parameters:
            key, _, value = parameter.strip().partition("=")
            if key.lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranks[name] = max(quality, ranks.get(name, 0.0))
    return ranks
