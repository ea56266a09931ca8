"""What GraphQL scanners probe for, against the production settings."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from core.settings import Settings
from server.app import create_app
from tests.conftest import GraphQLClient, error_codes

STRONG = "a-production-secret-that-is-long-and-random-4f9a2c"


@pytest.fixture
def prod_settings(settings: Settings) -> Settings:
    env = {
        "APP_ENV": "prod",
        "DATABASE_URL": settings.database_url,
        "JWT_SECRET": STRONG,
        "SECRET_KEY": STRONG + "x",
        "CORS_ORIGINS": "https://app.example",
        "EXPORT_DIR": settings.export_dir,
    }
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    return Settings.from_env(env)


@pytest.fixture
async def prod_app(prod_settings: Settings) -> AsyncIterator[Starlette]:
    app = create_app(prod_settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def http(prod_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=prod_app, client=("198.51.100.20", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


@pytest.fixture
def prod_gql(http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http)


async def test_production_refuses_introspection_and_suggestions(prod_gql: GraphQLClient) -> None:
    body = await prod_gql("{ __schema { types { name } } }")
    assert set(error_codes(body)) == {"VALIDATION_ERROR"}
    assert "introspection" in body["errors"][0]["message"]
    assert body.get("data") is None
    typo = await prod_gql("{ helth { status } }")
    assert "Did you mean" not in typo["errors"][0]["message"]


async def test_production_serves_no_graphiql(http: httpx.AsyncClient) -> None:
    page = await http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code in (404, 405)
    assert "graphiql" not in page.text.lower()


async def test_get_requests_cannot_run_queries_or_mutations(http: httpx.AsyncClient) -> None:
    query = await http.get("/graphql", params={"query": "{ health { status } }"})
    mutation = await http.get("/graphql", params={"query": "mutation { logout }"})
    for response in (query, mutation):
        assert response.status_code in (400, 404, 405)
        assert '"status"' not in response.text


async def test_form_and_text_posts_are_refused(http: httpx.AsyncClient) -> None:
    """What a cross-site form or a `no-cors` fetch could send (CSRF) never executes."""
    form = await http.post("/graphql", data={"query": "mutation { logout }"})
    text = await http.post(
        "/graphql",
        content='{"query": "{ health { status } }"}',
        headers={"Content-Type": "text/plain"},
    )
    for response in (form, text):
        assert response.status_code in (400, 415)
        assert "health" not in response.text


NOT_JSON = (
    "text/plain; x=application/json",  # a form or `no-cors` fetch may send this
    "text/plain;application/json",
    "x-application/json",
    "application/jsonp",
    "application/json, text/plain",
    "application/json garbage",
)
JSON_TYPES = ("application/json", "Application/JSON", 'application/json ; charset="utf-8"')
# The short path answers a plain POST; asking for a stream sends it through strawberry's view.
VIEWS = {"short path": {}, "full view": {"Accept": "multipart/mixed"}}


@pytest.mark.parametrize("view", VIEWS)
async def test_a_body_is_read_only_from_a_json_media_type(
    http: httpx.AsyncClient, view: str
) -> None:
    """The Content-Type is parsed as a media type, not searched for `application/json`."""
    body = b'{"query": "{ health { status } }"}'

    async def post(content_type: str) -> httpx.Response:
        headers = {"Content-Type": content_type, **VIEWS[view]}
        return await http.post("/graphql", content=body, headers=headers)

    refused = {content_type: await post(content_type) for content_type in NOT_JSON}
    assert [kind for kind, answer in refused.items() if "health" in answer.text] == []
    assert {answer.status_code for answer in refused.values()} == {415}
    for content_type in JSON_TYPES:
        response = await post(content_type)
        assert response.status_code == 200, (content_type, response.text)
        assert '"ok"' in response.text


async def test_rest_bodies_are_read_only_from_a_json_media_type(http: httpx.AsyncClient) -> None:
    body = b'{"email": "a@b.io", "password": "whatever1"}'
    for content_type in NOT_JSON:
        response = await http.post(
            "/auth/login", content=body, headers={"Content-Type": content_type}
        )
        assert response.status_code == 415, content_type
    for content_type in JSON_TYPES:
        response = await http.post(
            "/auth/login", content=body, headers={"Content-Type": content_type}
        )
        assert response.status_code == 401, content_type  # read, and the credentials are wrong


async def test_array_batching_is_off(http: httpx.AsyncClient) -> None:
    batch = [{"query": "{ health { status } }"}] * 2
    response = await http.post("/graphql", json=batch)
    assert response.status_code == 400
    assert '"ok"' not in response.text


async def test_batched_logins_are_refused_when_batching_is_on(settings: Settings) -> None:
    app = create_app(settings.with_(graphql_batch_limit=5))
    login = 'mutation { login(email: "a@b.io", password: "whatever1") { accessToken } }'
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            queries = await client.post("/graphql", json=[{"query": "{ health { status } }"}] * 2)
            logins = await client.post("/graphql", json=[{"query": login}] * 2)
            too_many = await client.post("/graphql", json=[{"query": "{ health { status } }"}] * 6)
    assert [r["data"]["health"]["status"] for r in queries.json()] == ["ok", "ok"]
    assert [error_codes(r) for r in logins.json()] == [["QUERY_TOO_COMPLEX"]] * 2
    assert too_many.status_code == 400


async def test_alias_overloading(prod_gql: GraphQLClient) -> None:
    many = " ".join(f"a{i}: health {{ status }}" for i in range(16))
    assert "QUERY_TOO_COMPLEX" in error_codes(await prod_gql("{ " + many + " }"))
    nested = " ".join(f"s{i}: status" for i in range(16))
    assert error_codes(await prod_gql("{ health { " + nested + " } }")) == ["QUERY_TOO_COMPLEX"]
    typenames = " ".join(f"t{i}: __typename" for i in range(30))
    free = await prod_gql("{ health { " + typenames + " status } }")
    assert free["data"]["health"]["status"] == "ok"


async def test_directive_overloading(prod_gql: GraphQLClient) -> None:
    directives = " ".join("@include(if: true)" for _ in range(25))
    body = await prod_gql("{ health { status " + directives + " } }")
    assert "QUERY_TOO_COMPLEX" in error_codes(body)


async def test_field_duplication_hits_the_token_limit(prod_gql: GraphQLClient) -> None:
    body = await prod_gql("{ health { " + "status " * 2500 + "} }")
    assert error_codes(body) == ["QUERY_TOO_COMPLEX"]


DEEP = "createdBy { " * 10 + "id" + " }" * 10


async def test_depth_through_fragments_and_inline_fragments(prod_gql: GraphQLClient) -> None:
    direct = await prod_gql("{ me { " + DEEP + " } }")
    assert error_codes(direct) == ["QUERY_TOO_COMPLEX"]
    via_fragments = """{ me { ...A } }
      fragment A on User { createdBy { createdBy { createdBy { ...B } } } }
      fragment B on User { createdBy { ... on User { createdBy { createdBy { createdBy {
        createdBy { createdBy { id } } } } } } } }"""
    assert error_codes(await prod_gql(via_fragments)) == ["QUERY_TOO_COMPLEX"]


async def test_cyclic_fragments_are_refused_without_crashing(prod_gql: GraphQLClient) -> None:
    body = await prod_gql("""{ me { ...A } }
      fragment A on User { createdBy { ...B } }
      fragment B on User { createdBy { ...A } }""")
    assert error_codes(body)
    assert "INTERNAL_ERROR" not in error_codes(body)


async def test_circular_introspection_is_stopped_by_depth(gql: GraphQLClient) -> None:
    levels = ["__schema", "types"] + ["fields", "type"] * 5
    deep = "{ " + " { ".join(levels) + " { name" + " }" * len(levels) + " }"
    assert set(error_codes(await gql(deep))) == {"QUERY_TOO_COMPLEX"}


async def test_cost_limit_counts_list_sizes(prod_gql: GraphQLClient) -> None:
    fields = "id name email role isActive version etag createdAt updatedAt deletedAt"
    nested = fields
    for _ in range(4):
        nested = f"{fields} createdBy {{ {nested} }}"
    body = await prod_gql("{ users(perPage: 100) { items { " + nested + " } } }")
    assert error_codes(body) == ["QUERY_TOO_COMPLEX"]
    assert "cost" in body["errors"][0]["message"]


async def test_huge_pages_are_refused(gql: GraphQLClient, accounts: Any) -> None:
    admin = await accounts.admin_token()
    body = await gql("{ users(perPage: 100000) { items { id } } }", token=admin)
    assert error_codes(body) == ["VALIDATION_ERROR"]


async def test_oversized_bodies_are_refused(
    http: httpx.AsyncClient, prod_settings: Settings
) -> None:
    response = await http.post(
        "/graphql",
        content=b"{" * (prod_settings.max_content_length + 10),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert error_codes(response.json()) == ["PAYLOAD_TOO_LARGE"]


async def test_unexpected_errors_are_masked_and_logged_once(
    prod_gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import schema.health

    async def broken(_services: Any) -> Any:
        raise RuntimeError("SELECT secret FROM /srv/app/db.py")

    monkeypatch.setattr(schema.health, "check_health", broken)
    with caplog.at_level(logging.DEBUG):
        body = await prod_gql("{ a: health { status } }")
    error = body["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL_ERROR"
    assert error["extensions"]["requestId"]
    assert "SELECT" not in str(body)
    assert "/srv" not in str(body)
    logged = [r for r in caplog.records if "SELECT secret" in str(r.exc_info)]
    assert len(logged) == 1
    assert error["extensions"]["requestId"] in logged[0].getMessage()


async def test_production_headers_and_cors(http: httpx.AsyncClient) -> None:
    response = await http.get("/health")
    assert "max-age" in response.headers["Strict-Transport-Security"]
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    evil = await http.options(
        "/graphql",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in evil.headers
    good = await http.options(
        "/graphql",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
    )
    assert good.headers["access-control-allow-origin"] == "https://app.example"


async def test_slow_operations_are_stopped(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    import schema.health

    async def slow(_services: Any) -> Any:
        await asyncio.sleep(5)

    monkeypatch.setattr(schema.health, "check_health", slow)
    app = create_app(settings.with_(graphql_timeout=0.2))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            body = (await client.post("/graphql", json={"query": "{ health { status } }"})).json()
    assert error_codes(body) == ["QUERY_TOO_COMPLEX"]


@pytest.mark.parametrize("body", ['"{ health { status } }"', "42", "null", "[1, 2]", '["x"]'])
async def test_bodies_that_are_not_objects_are_bad_requests(
    http: httpx.AsyncClient, body: str
) -> None:
    response = await http.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"query": 5}', "`query` must be a string"),
        ('{"query": "{ health { status } }", "variables": [1]}', "`variables` must be an object"),
        ('{"query": "{ health { status } }", "extensions": 3}', "extensions"),
        ("{not json", "Unable to parse request body as JSON"),
        ("{}", "No GraphQL query found"),
        ('{"query": "query A { health { status } }", "operationName": "B"}', "B"),
    ],
)
async def test_malformed_operations_get_the_views_own_refusals(
    http: httpx.AsyncClient, body: str, reason: str
) -> None:
    """Single JSON operations take a short path; whatever it does not recognise is answered by
    strawberry's full view, with its status and words, and runs nothing."""
    response = await http.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert reason in response.text
    assert '"ok"' not in response.text


async def test_the_standard_introspection_query_passes_in_development(gql: GraphQLClient) -> None:
    """GraphiQL's own query must work where introspection is on."""
    from graphql import get_introspection_query

    body = await gql(get_introspection_query(descriptions=True))
    assert "errors" not in body, body.get("errors")
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"
