"""Apollo's automatic persisted queries (contract section 6): miss, register, hit, a hash that
does not match, over POST and GET, on both paths of the view."""

from __future__ import annotations

import hashlib
import json
from contextlib import nullcontext
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from core.settings import Settings
from server.app import create_app
from server.persisted import MAX_STORED_CHARS
from tests.conftest import error_codes
from tests.test_graphql_requests import full_view

PROBE = "query Probe { __typename }"  # nothing in it depends on the services
LOGOUT = "mutation Logout { logout }"


def sha(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def apq(document: str, *, with_query: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(document)}}
    }
    if with_query:
        body["query"] = document
    return body


async def post(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/graphql", json=body)


async def get(client: httpx.AsyncClient, document: str, **headers: str) -> httpx.Response:
    extensions = json.dumps(apq(document)["extensions"])
    return await client.get("/graphql", params={"extensions": extensions}, headers=headers)


def assert_not_found(response: httpx.Response) -> None:
    """The contract's answer to an unknown hash: 400 PERSISTED_QUERY_NOT_FOUND, the message
    Apollo's link looks for, and no data; the client then sends the document."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert error_codes(body) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert body["errors"][0]["message"] == "PersistedQueryNotFound"
    assert body.get("data") is None


@pytest.mark.parametrize("path", ["short", "full"])
async def test_a_miss_then_register_then_hit(
    app: Starlette, client: httpx.AsyncClient, path: str
) -> None:
    """The Apollo exchange, the same through the short path and strawberry's full view."""
    with full_view(app) if path == "full" else nullcontext():
        assert_not_found(await post(client, apq(PROBE)))
        registered = await post(client, apq(PROBE, with_query=True))
        assert registered.json() == {"data": {"__typename": "Query"}}
        hit = await post(client, apq(PROBE))
        assert hit.status_code == 200
        assert hit.json() == {"data": {"__typename": "Query"}}


async def test_variables_and_operation_name_go_with_the_hash(client: httpx.AsyncClient) -> None:
    document = (
        "query A { a: __typename } "
        "query B($s: Boolean!) { skipped: __typename @skip(if: $s) kept: __typename }"
    )
    await post(client, apq(document, with_query=True) | {"operationName": "A"})
    hit = await post(client, apq(document) | {"operationName": "B", "variables": {"s": True}})
    assert hit.json() == {"data": {"kept": "Query"}}


async def test_a_hash_that_does_not_match_is_refused_and_not_kept(
    client: httpx.AsyncClient,
) -> None:
    lying = {"query": LOGOUT, "extensions": apq(PROBE)["extensions"]}
    refused = await post(client, lying)
    assert refused.status_code == 400
    assert error_codes(refused.json()) == ["VALIDATION_ERROR"]
    assert "does not match" in refused.json()["errors"][0]["message"]
    assert_not_found(await post(client, apq(PROBE)))  # the hash names nothing still


@pytest.mark.parametrize(
    "extension",
    [
        {"version": 2, "sha256Hash": sha(PROBE)},
        {"sha256Hash": sha(PROBE)},
        {"version": 1, "sha256Hash": sha(PROBE).upper()},
        {"version": 1, "sha256Hash": "../../etc/passwd"},
        {"version": 1, "sha256Hash": 5},
        {"version": 1},
        "v1",
        None,
    ],
)
async def test_a_malformed_extension_is_a_validation_error(
    client: httpx.AsyncClient, extension: Any
) -> None:
    response = await post(client, {"extensions": {"persistedQuery": extension}})
    assert response.status_code == 400, response.text
    assert error_codes(response.json()) == ["VALIDATION_ERROR"]


async def test_over_get_a_registered_query_runs(client: httpx.AsyncClient) -> None:
    """Apollo's `useGETForHashedQueries`: the hash over GET (the retry with the document is a
    POST); a browser's `Accept: */*` gets the answer, not the GraphiQL page."""
    assert_not_found(await get(client, PROBE, Accept="*/*"))
    await post(client, apq(PROBE, with_query=True))
    hit = await get(client, PROBE, Accept="*/*")
    assert hit.status_code == 200
    assert hit.json() == {"data": {"__typename": "Query"}}


async def test_over_get_a_mutation_never_runs(client: httpx.AsyncClient, accounts: Any) -> None:
    token = await accounts.token_for()
    signed = {"Authorization": f"Bearer {token}"}
    await client.post("/graphql", json=apq(LOGOUT, with_query=True), headers=signed)
    token = await accounts.token_for("other@example.com")  # the first one logged out
    signed = {"Authorization": f"Bearer {token}"}
    extensions = json.dumps(apq(LOGOUT)["extensions"])
    response = await client.get("/graphql", params={"extensions": extensions}, headers=signed)
    assert response.status_code == 405
    assert error_codes(response.json()) == ["HTTP_ERROR"]
    me = await client.post("/graphql", json={"query": "{ me { email } }"}, headers=signed)
    assert me.json() == {"data": {"me": {"email": "other@example.com"}}}  # still signed in


async def test_a_get_with_a_document_is_still_refused(client: httpx.AsyncClient) -> None:
    """GET carries hashes only: a whole document in a URL stays refused (test_hardening),
    with a hash beside it too."""
    extensions = json.dumps(apq(PROBE)["extensions"])
    for params in ({"query": PROBE}, {"query": PROBE, "extensions": extensions}):
        response = await client.get("/graphql", params=params)
        assert response.status_code == 400
        assert '"status"' not in response.text
    assert_not_found(await post(client, apq(PROBE)))  # and nothing was kept


async def test_an_oversized_document_runs_but_is_not_kept(client: httpx.AsyncClient) -> None:
    padding = "#" + "x" * MAX_STORED_CHARS + "\n"
    document = padding + PROBE
    ran = await post(client, apq(document, with_query=True))
    assert ran.json() == {"data": {"__typename": "Query"}}
    assert_not_found(await post(client, apq(document)))


async def test_registered_documents_live_in_redis_with_a_ttl(
    app: Starlette, settings: Settings, client: httpx.AsyncClient
) -> None:
    """With Redis, another server process finds what this one kept; without it, each keeps
    its own (a miss there costs the client one retry)."""
    await post(client, apq(PROBE, with_query=True))
    other = create_app(settings)
    async with other.router.lifespan_context(other):
        transport = httpx.ASGITransport(app=other, client=("203.0.113.8", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as peer:
            answer = await post(peer, apq(PROBE))
    redis = app.state.services.redis
    if redis is None:
        assert_not_found(answer)
        return
    assert answer.json() == {"data": {"__typename": "Query"}}
    ttl = await redis.ttl(f"cache:apq:{sha(PROBE)}")
    assert 0 < ttl <= settings.graphql_apq_ttl


async def test_with_apq_off_a_hash_is_not_supported(settings: Settings) -> None:
    app = create_app(settings.with_(graphql_apq=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            for body in (apq(PROBE), apq(PROBE, with_query=True)):
                response = await post(http, body)
                assert response.status_code == 400
                assert error_codes(response.json()) == ["PERSISTED_QUERY_NOT_SUPPORTED"]
            plain = await post(http, {"query": PROBE})
            assert plain.json() == {"data": {"__typename": "Query"}}
