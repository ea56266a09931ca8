"""The server answers: health, readiness, request ids, body limits, CORS, GraphQL errors."""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.app import create_app
from tests.conftest import PASSWORD, Accounts, GraphQLClient, base_settings, error_codes
from tests.rest_helpers import data_of, error_of


async def test_health_reports_each_backing_service_in_the_envelope(
    client: httpx.AsyncClient, backend: str
) -> None:
    """The legacy `json_response`: `{success, data: {status, database, cache, queue}, error}`."""
    cache, queue = ("in-process", "in-process") if backend == "embedded" else ("ok", "rq")
    assert data_of(await client.get("/health")) == {
        "status": "ok",
        "database": "ok",
        "cache": cache,
        "queue": queue,
    }


async def test_ready_when_the_database_answers_in_the_envelope(
    client: httpx.AsyncClient, backend: str
) -> None:
    cache, queue = ("in-process", "in-process") if backend == "embedded" else ("ok", "rq")
    assert data_of(await client.get("/ready")) == {
        "status": "ready",
        "database": "ok",
        "cache": cache,
        "queue": queue,
    }


async def test_not_ready_while_draining_is_service_unavailable_in_the_envelope(
    client: httpx.AsyncClient,
) -> None:
    from server.draining import DRAINING

    DRAINING.set()
    try:
        response = await client.get("/ready")
    finally:
        DRAINING.clear()
    error = error_of(response, 503, "SERVICE_UNAVAILABLE")
    assert (error["details"]["status"], error["details"]["database"]) == ("draining", "ok")
    assert data_of(await client.get("/ready"))["status"] == "ready"


async def test_health_field_over_graphql(gql: GraphQLClient) -> None:
    body = await gql("{ health { status database } }")
    assert body == {"data": {"health": {"status": "ok", "database": "ok"}}}


async def test_request_id_is_echoed_or_created(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"
    created = await client.get("/health", headers={"X-Request-ID": "bad id\twith junk"})
    assert created.headers["X-Request-ID"] not in ("", "bad id\twith junk")
    assert len(created.headers["X-Request-ID"]) == 32


async def test_security_headers_on_responses(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


async def test_body_over_the_limit_is_refused_with_413(client: httpx.AsyncClient, settings) -> None:  # type: ignore[no-untyped-def]
    big = "x" * (settings.max_content_length + 1)
    response = await client.post(
        "/graphql", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert error_codes(response.json()) == ["PAYLOAD_TOO_LARGE"]


async def test_streamed_body_over_the_limit_is_refused(client: httpx.AsyncClient, settings) -> None:  # type: ignore[no-untyped-def]
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"x" * (settings.max_content_length // 2 + 1)

    response = await client.post(
        "/graphql", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert error_codes(response.json()) == ["PAYLOAD_TOO_LARGE"]


async def test_cors_preflight_answers_allowed_origins(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/graphql",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] in ("*", "https://app.example")


async def test_graphql_syntax_error_has_a_code(gql: GraphQLClient) -> None:
    body = await gql("{ health { ")
    assert error_codes(body) == ["VALIDATION_ERROR"]


async def test_unknown_field_is_a_validation_error(gql: GraphQLClient) -> None:
    body = await gql("{ nope }")
    assert error_codes(body) == ["VALIDATION_ERROR"]


async def test_graphiql_is_served_from_this_server(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    assert "http://" not in page.text
    assert "https://" not in page.text  # no CDN: works offline
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-eval" not in csp
    for asset in (
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
        "start.js",
    ):
        assert f"/graphql/static/{asset}" in page.text
        response = await client.get(f"/graphql/static/{asset}")
        assert response.status_code == 200, asset
        assert len(response.content) > 100


async def test_a_client_that_leaves_mid_body_is_not_an_error(
    app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The body never arrives (the client hung up): nothing is answered and nothing is logged
    as an error; one info line says what happened."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"x-request-id", b"gone-1")],
        "client": ("203.0.113.7", 1),
        "server": ("t", 80),
        "app": app,
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with caplog.at_level(logging.INFO):
        await app(scope, receive, send)
    assert [m for m in sent if m["type"] == "http.response.start"] == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(
        "client disconnected during request gone-1" in r.getMessage() for r in caplog.records
    )


async def test_answers_with_tokens_or_accounts_are_never_stored(
    client: httpx.AsyncClient, gql: GraphQLClient, accounts: Accounts
) -> None:
    """`Cache-Control: no-store` on GraphQL answers (tokens, accounts, errors alike) and on the
    REST auth, users and admin routes; only the data-free GraphiQL assets may be cached."""
    admin = {"Authorization": f"Bearer {await accounts.admin_token()}"}
    user = await accounts.user("kept@example.com")
    login = {"email": "kept@example.com", "password": PASSWORD}
    pair = (await client.post("/auth/login", json=login)).json()["data"]
    me = {"query": "{ me { email } }"}
    answers = {
        "graphql login": await client.post(
            "/graphql",
            json={
                "query": "mutation($e: String!, $p: String!) "
                "{ login(email: $e, password: $p) { accessToken } }",
                "variables": {"e": "kept@example.com", "p": PASSWORD},
            },
        ),
        "graphql me": await client.post("/graphql", json=me, headers=admin),
        "graphql error": await client.post("/graphql", json=me),
        "rest login": await client.post("/auth/login", json=login),
        "rest refresh": await client.post(
            "/auth/refresh", json={"refresh_token": pair["refresh_token"]}
        ),
        "rest wrong password": await client.post("/auth/login", json={**login, "password": "no"}),
        "rest me": await client.get("/auth/me", headers=admin),
        "users me": await client.get("/users/me", headers=admin),
        "users page": await client.get("/users", headers=admin),
        "user": await client.get(f"/users/{user.id}", headers=admin),
        "user patch": await client.patch(f"/users/{user.id}", json={"name": "Kept"}, headers=admin),
        "users signed out": await client.get("/users"),
        "job": await client.post("/admin/users/export", headers=admin),
    }
    stored = {name: r.headers.get("cache-control") for name, r in answers.items()}
    assert stored == dict.fromkeys(answers, "no-store")
    asset = await client.get("/graphql/static/start.js")
    assert asset.status_code == 200
    assert "no-store" not in asset.headers.get("cache-control", "")


async def test_a_database_that_does_not_answer_is_service_unavailable_in_the_envelope(
    sqlite_template: Path, tmp_path: Path
) -> None:
    """The embedded default's outage: another process holds the SQLite file locked. REST answers
    503 SERVICE_UNAVAILABLE in the legacy envelope after DB_TIMEOUT, and recovers."""
    db_file = tmp_path / "app.db"
    shutil.copy(sqlite_template, db_file)
    settings = base_settings(
        database_url=f"sqlite:///{db_file}", export_dir=str(tmp_path / "e"), db_timeout=0.5
    )
    app = create_app(settings)
    grace = {"name": "Grace", "email": "grace@example.com", "password": "a long passphrase"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            holder = sqlite3.connect(db_file, isolation_level=None)
            holder.execute("BEGIN EXCLUSIVE")
            try:
                register = await http.post("/auth/register", json=grace)
                ready = await http.get("/ready")
            finally:
                holder.execute("ROLLBACK")
                holder.close()
            error_of(register, 503, "SERVICE_UNAVAILABLE")
            assert error_of(ready, 503, "SERVICE_UNAVAILABLE")["details"]["database"] == "down"
            # Recovery: the work the lock held up (the background sweeps) runs now too and, with a
            # 0.5 s DB_TIMEOUT on a busy machine, may still win the single writer's lock once.
            for _ in range(20):
                again = await http.post("/auth/register", json=grace)
                if again.status_code != 503:
                    break
                await asyncio.sleep(0.25)
            assert data_of(again, 201)["name"] == "Grace"
