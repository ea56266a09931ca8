"""Error details in one vocabulary, spelled by each transport (contract sections 1 and 4).

Resolvers raise `retry_after`, `current_etag` and a masked failure's `request_id` once, in
snake_case; GraphQL answers `extensions.details.retryAfter` / `currentEtag` and
`extensions.requestId`, REST answers `error.details.retry_after` / `current_etag` /
`request_id`. Field names of a VALIDATION_ERROR are passed as the caller wrote them. The
SDK side of the rule is in test_client.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from core.errors import validation_error
from core.settings import Settings
from schema.errors import graphql_extensions
from server.app import create_app
from tests.conftest import PASSWORD, Accounts
from tests.rest_helpers import bearer, error_of

REGISTER = (
    "mutation($e: String!, $p: String!) "
    '{ register(input: {name: "N", email: $e, password: $p}) { id } }'
)
UPDATE = (
    "mutation($id: ID!, $ifMatch: String) "
    '{ updateUser(id: $id, input: {name: "Two"}, ifMatch: $ifMatch) { etag } }'
)


@pytest.fixture
async def limited(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app that allows one sign-up per client a minute."""
    app = create_app(settings.with_(register_rate_limit_ip="1/minute"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield http


def graphql_error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert len(body["errors"]) == 1, body
    error: dict[str, Any] = body["errors"][0]
    return error


# --- RATE_LIMITED ----------------------------------------------------------------------------


async def test_rate_limited_on_graphql_has_retry_after_in_camel_case_only(
    limited: httpx.AsyncClient,
) -> None:
    for email in ("one@example.com", "two@example.com"):
        response = await limited.post(
            "/graphql", json={"query": REGISTER, "variables": {"e": email, "p": PASSWORD}}
        )
    error = graphql_error(response)
    assert error["extensions"]["code"] == "RATE_LIMITED"
    details = error["extensions"]["details"]
    assert set(details) == {"retryAfter", "limit", "window"}
    assert details["retryAfter"] > 0 and details["limit"] == 1 and details["window"] == 60


async def test_rate_limited_on_rest_has_retry_after_in_snake_case_and_the_header(
    limited: httpx.AsyncClient,
) -> None:
    for email in ("one@example.com", "two@example.com"):
        body = {"name": "N", "email": email, "password": PASSWORD}
        response = await limited.post("/auth/register", json=body)
    details = error_of(response, 429, "RATE_LIMITED")["details"]
    assert set(details) == {"retry_after", "limit", "window"}
    assert details["retry_after"] > 0
    assert response.headers["Retry-After"] == str(details["retry_after"])


# --- VERSION_CONFLICT ------------------------------------------------------------------------


async def test_version_conflict_on_graphql_has_current_etag_in_camel_case_only(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    admin = await accounts.admin_token()
    user = await accounts.user("stale@example.com")
    stale = {"query": UPDATE, "variables": {"id": str(user.id), "ifMatch": user.etag}}
    first = await client.post("/graphql", json=stale, headers=bearer(admin))
    fresh = first.json()["data"]["updateUser"]["etag"]
    error = graphql_error(await client.post("/graphql", json=stale, headers=bearer(admin)))
    assert error["extensions"] == {
        "code": "VERSION_CONFLICT",
        "details": {"currentEtag": fresh},
    }


async def test_version_conflict_on_rest_has_current_etag_in_snake_case_only(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    admin = await accounts.admin_token()
    user = await accounts.user("stale@example.com")
    headers = {**bearer(admin), "If-Match": user.etag}
    first = await client.patch(f"/users/{user.id}", json={"name": "Two"}, headers=headers)
    stale = await client.patch(f"/users/{user.id}", json={"name": "Two"}, headers=headers)
    fresh = first.headers["ETag"]
    assert error_of(stale, 409, "VERSION_CONFLICT")["details"] == {"current_etag": fresh}


# --- the request id of a masked failure ------------------------------------------------------


@pytest.fixture
def broken_health(monkeypatch: pytest.MonkeyPatch) -> None:
    import schema.health

    async def broken(_services: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(schema.health, "check_health", broken)


@pytest.mark.usefixtures("broken_health")
async def test_masked_error_on_graphql_has_the_request_id_beside_the_code(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ health { status } }"}, headers={"X-Request-ID": "req-gql-1"}
    )
    error = graphql_error(response)
    assert error["message"] == "Internal server error"
    assert error["extensions"] == {"code": "INTERNAL_ERROR", "requestId": "req-gql-1"}
    assert response.headers["X-Request-ID"] == "req-gql-1"


async def test_masked_error_outside_the_executor_on_graphql_has_the_same_shape(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure before GraphQL runs (here, in the authentication middleware) is masked by the
    server's handler, and still puts the request id in `extensions.requestId`."""
    import server.middleware.authentication as authentication

    async def broken(*_args: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(authentication, "authenticate", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.post(
            "/graphql",
            json={"query": "{ health { status } }"},
            headers={"Authorization": "Bearer x", "X-Request-ID": "req-gql-2"},
        )
    assert response.status_code == 500
    error = graphql_error(response)
    assert error["extensions"] == {"code": "INTERNAL_ERROR", "requestId": "req-gql-2"}
    assert response.headers["X-Request-ID"] == "req-gql-2"


async def test_masked_error_on_rest_has_the_request_id_in_details(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    import server.health

    async def broken(_services: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(server.health, "check_health", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/health", headers={"X-Request-ID": "req-rest-1"})
    error = error_of(response, 500, "INTERNAL_ERROR")
    assert error["details"] == {"request_id": "req-rest-1"}
    assert response.headers["X-Request-ID"] == "req-rest-1"


# --- field names of a VALIDATION_ERROR are not detail keys -----------------------------------


def test_graphql_keeps_the_field_names_of_a_validation_error() -> None:
    problems = {"per_page": ["Must be between 1 and 100"], "sortBy": ["Must be one of id"]}
    assert graphql_extensions(validation_error(problems)) == {
        "code": "VALIDATION_ERROR",
        "details": problems,
    }


async def test_validation_field_names_are_the_callers_on_both_transports(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    admin = bearer(await accounts.admin_token())
    query = {"query": "{ users(perPage: 0) { items { id } } }"}
    gql = graphql_error(await client.post("/graphql", json=query, headers=admin))
    assert set(gql["extensions"]["details"]) == {"perPage"}
    rest = error_of(await client.get("/users?per_page=0", headers=admin), 400, "VALIDATION_ERROR")
    assert set(rest["details"]) == {"per_page"}
