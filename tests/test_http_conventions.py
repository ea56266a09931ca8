"""What frontends' GraphQL clients send and expect: CORS for their headers, urql's Accept on the
short path, `application/graphql-response+json` and its status codes, DateTime's profile."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from starlette.applications import Starlette

from core.settings import Settings
from server.app import create_app
from tests.conftest import Accounts, error_codes
from tests.test_graphql_requests import full_view

URQL_ACCEPT = (
    "application/graphql-response+json, application/graphql+json, application/json, "
    "text/event-stream, multipart/mixed"
)
APOLLO_ACCEPT = "application/graphql-response+json,application/json;q=0.9"
GRAPHQL_RESPONSE = "application/graphql-response+json"
CLIENT_HEADERS = (
    "apollographql-client-name",
    "apollographql-client-version",
    "traceparent",
    "tracestate",
    "baggage",
    "sentry-trace",
)
ORIGIN = "https://app.example"


def preflight(headers: str) -> dict[str, str]:
    return {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": headers,
    }


async def test_preflight_allows_what_apollo_urql_and_tracing_send(
    client: httpx.AsyncClient,
) -> None:
    asked = ", ".join(("authorization", "content-type", *CLIENT_HEADERS))
    response = await client.options("/graphql", headers=preflight(asked))
    assert response.status_code == 200, response.text
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert set(asked.split(", ")) <= allowed
    refused = await client.options("/graphql", headers=preflight("x-tenant"))
    assert refused.status_code == 400


async def test_cors_allow_headers_adds_more(settings: Settings) -> None:
    app = create_app(settings.with_(cors_allow_headers=("X-Tenant",)))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.options("/graphql", headers=preflight("x-tenant, traceparent"))
    assert response.status_code == 200
    assert "x-tenant" in response.headers["access-control-allow-headers"].lower()


async def test_a_page_may_read_the_etag_the_limits_and_the_request_id(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": ORIGIN}
    )
    exposed = {
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    }
    assert {
        "etag",
        "retry-after",
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
        "ratelimit-policy",
        "x-request-id",
    } <= exposed


@contextmanager
def served_by() -> Iterator[dict[str, float]]:
    """How many operations each path of the view ran meanwhile (graphql_http_path_total)."""

    def counts() -> dict[str, float]:
        return {
            path: REGISTRY.get_sample_value("graphql_http_path_total", {"path": path}) or 0.0
            for path in ("short", "full")
        }

    before, ran = counts(), dict[str, float]()
    yield ran
    ran.update({path: value - before[path] for path, value in counts().items()})


async def test_urqls_accept_takes_the_short_path_and_gets_graphql_response_json(
    client: httpx.AsyncClient,
) -> None:
    with served_by() as ran:
        response = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Accept": URQL_ACCEPT}
        )
    assert ran == {"short": 1, "full": 0}
    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_the_full_view_answers_alike(app: Starlette, client: httpx.AsyncClient) -> None:
    with full_view(app), served_by() as ran:
        response = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Accept": URQL_ACCEPT}
        )
    assert ran == {"short": 0, "full": 1}
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("accept", [URQL_ACCEPT, APOLLO_ACCEPT])
@pytest.mark.parametrize("path", ["short", "full"])
async def test_graphql_response_json_status_codes(
    app: Starlette, client: httpx.AsyncClient, accounts: Accounts, accept: str, path: str
) -> None:
    """A request error is a 400 without `data`; an executed operation is a 200, even when a
    field error made `data` null (GraphQL over HTTP, application/graphql-response+json)."""

    async def ask(query: str, variables: dict[str, object] | None = None) -> httpx.Response:
        return await client.post(
            "/graphql", json={"query": query, "variables": variables}, headers={"Accept": accept}
        )

    with full_view(app) if path == "full" else nullcontext():
        invalid = await ask("{ nope }")
        syntax = await ask("{")
        coercion = await ask("query($id: ID!) { user(id: $id) { id } }", {})
        unauthenticated = await ask("{ me { id } }")
    for response in (invalid, syntax, coercion):
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == GRAPHQL_RESPONSE
        assert "data" not in response.json()
        assert error_codes(response.json()) == ["VALIDATION_ERROR"]
    assert unauthenticated.status_code == 200
    assert unauthenticated.json()["data"] is None
    assert error_codes(unauthenticated.json()) == ["MISSING_AUTH_HEADER"]


async def test_plain_json_clients_see_no_change(client: httpx.AsyncClient) -> None:
    for accept in (None, "application/json", "*/*", f"{GRAPHQL_RESPONSE};q=0.5, application/json"):
        headers = {"Accept": accept} if accept else {}
        response = await client.post("/graphql", json={"query": "{ nope }"}, headers=headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json()["data"] is None


async def test_refusals_speak_the_asked_media_type_too(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        content="{not json",
        headers={"Accept": URQL_ACCEPT, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert error_codes(response.json()) == ["VALIDATION_ERROR"]


async def test_datetime_declares_rfc_3339(client: httpx.AsyncClient) -> None:
    url = "https://datatracker.ietf.org/doc/html/rfc3339"
    sdl = (Path(__file__).resolve().parent.parent / "schema.graphql").read_text()
    assert f'scalar DateTime @specifiedBy(url: "{url}")' in sdl
    answer = await client.post(
        "/graphql", json={"query": '{ __type(name: "DateTime") { specifiedByURL } }'}
    )
    assert answer.json() == {"data": {"__type": {"specifiedByURL": url}}}


async def test_a_batch_with_one_bad_operation_is_not_a_400(settings: Settings) -> None:
    app = create_app(settings.with_(graphql_batch_limit=2))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.post(
                "/graphql",
                json=[{"query": "{ __typename }"}, {"query": "{ nope }"}],
                headers={"Accept": URQL_ACCEPT},
            )
    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    good, bad = response.json()
    assert good == {"data": {"__typename": "Query"}}
    assert "data" not in bad and error_codes(bad) == ["VALIDATION_ERROR"]
