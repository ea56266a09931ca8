"""`/openapi.json`, `/docs`, `/redoc`: a valid document of every REST route, honoured by the server."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import jsonschema_rs
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.definitions import OPENAPI_31
from starlette.applications import Starlette
from starlette.routing import Route

from core.settings import Settings
from server.rest import OPERATIONS
from tests.conftest import PASSWORD, Accounts, seed_accounts
from tests.rest_helpers import bearer, conforms, data_of, document


async def test_the_document_is_valid_openapi_3_1(client: httpx.AsyncClient) -> None:
    doc = await document(client)
    jsonschema_rs.Draft202012Validator(OPENAPI_31).validate(doc)
    documented = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    assert documented == {(op.method, op.path) for op in OPERATIONS}
    per_page = next(
        p for p in doc["paths"]["/users"]["get"]["parameters"] if p["name"] == "per_page"
    )
    assert per_page["schema"]["maximum"] == 100


def test_every_documented_operation_is_served(app: Starlette) -> None:
    """Also those the app routes itself (`/health`, ...): the document cannot promise a route."""
    served = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
    }
    assert {(op.method, op.path) for op in OPERATIONS} <= served


async def test_answers_conform_to_the_document(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    doc = await document(client)
    admin = bearer(await accounts.admin_token())
    login = await client.post(
        "/auth/login", json={"email": "admin@example.com", "password": PASSWORD}
    )
    conforms(doc, "/auth/login", "post", 200, login.json())
    made = await client.post(
        "/users",
        json={"name": "Ada", "email": "ada@example.com", "password": PASSWORD},
        headers=admin,
    )
    conforms(doc, "/users", "post", 201, made.json())
    listed = await client.get("/users", headers=admin)
    conforms(doc, "/users", "get", 200, listed.json())
    one = f"/users/{data_of(made, 201)['id']}"
    conforms(
        doc, "/users/{user_id}", "delete", 200, (await client.delete(one, headers=admin)).json()
    )
    conforms(doc, "/users/{user_id}", "get", 404, (await client.get(one, headers=admin)).json())


def answered(operation: dict[str, Any], status: int) -> set[str]:
    """The media types the document gives for that answer; JSON for an undocumented status."""
    documented = operation["responses"].get(str(status), {}).get("content")
    return set(documented or {"application/json": {}})


def test_generated_requests_never_fail_the_server(settings: Settings, live_server: str) -> None:
    """Schemathesis cases from the document, valid and invalid, as admin, user and anonymous."""
    seed_accounts(settings)
    with httpx.Client(base_url=live_server, headers={"User-Agent": "fuzz"}, timeout=10) as http:
        schema = schemathesis.openapi.from_dict(http.get("/openapi.json").json())
        tokens = [
            data_of(http.post("/auth/login", json={"email": email, "password": PASSWORD}))
            for email in ("admin@example.com", "user@example.com")
        ]
        failures: list[str] = []
        statuses: Counter[int] = Counter()
        for result in schema.get_all_operations():
            assert isinstance(result, Ok), result.err()
            operation = result.ok()
            if operation.path.startswith("/auth/logout"):
                continue  # it would end the run's own sessions
            modes = [schemathesis.GenerationMode.POSITIVE]
            if operation.definition.raw["parameters"] or "requestBody" in operation.definition.raw:
                modes.append(schemathesis.GenerationMode.NEGATIVE)  # else nothing to get wrong
            for mode in modes:

                @examples(
                    max_examples=25,
                    derandomize=True,
                    deadline=None,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                )
                @given(
                    case=operation.as_strategy(generation_mode=mode), who=st.sampled_from([0, 1, 2])
                )
                def check(case: Any, who: int) -> None:
                    sent = case.as_transport_kwargs(base_url=live_server)
                    headers = {**(sent.get("headers") or {}), "User-Agent": "fuzz"}
                    headers.pop("Authorization", None)
                    if who < 2:
                        headers.update(bearer(tokens[who]["access_token"]))
                    wanted = ("method", "url", "params", "json", "content", "data")
                    try:
                        response = http.request(
                            headers=headers, **{k: v for k, v in sent.items() if k in wanted}
                        )
                    except (httpx.LocalProtocolError, UnicodeEncodeError):
                        return  # a header value no client could send
                    statuses[response.status_code] += 1
                    media_type = response.headers.get("content-type", "").partition(";")[0]
                    if response.status_code >= 500 or not (
                        media_type in answered(case.operation.definition.raw, response.status_code)
                        or response.status_code == 304
                    ):
                        failures.append(f"{case.method} {case.formatted_path} -> {response.text}")

                check()
    assert failures == []
    assert statuses[200] and statuses[400] and statuses[401]
