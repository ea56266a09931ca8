"""Reading legacy REST answers in tests: the envelope, its data, its error, its OpenAPI schema."""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema_rs

from tests.conftest import PASSWORD

USER_KEYS = {
    "id",
    "name",
    "email",
    "role",
    "is_active",
    "version",
    "created_at",
    "updated_at",
    "created_by",
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def data_of(response: httpx.Response, status: int = 200) -> Any:
    """The `data` of a successful envelope answered with `status`."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is True and body["error"] is None, body
    assert set(body) == {"success", "data", "error"}
    return body["data"]


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The `error` of a failed envelope answered with `status` and `code`."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"success", "data", "error"}
    assert body["success"] is False and body["data"] is None, body
    assert set(body["error"]) == {"code", "message", "details"}, body  # no legacy `detals`
    assert body["error"]["code"] == code, body
    error: dict[str, Any] = body["error"]
    return error


async def rest_login(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> dict[str, Any]:
    pair: dict[str, Any] = data_of(
        await client.post("/auth/login", json={"email": email, "password": password})
    )
    return pair


async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def conforms(doc: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    """`body` matches the schema `doc` declares for that answer."""
    schema = doc["paths"][path][method]["responses"][str(status)]["content"]["application/json"]
    jsonschema_rs.validator_for({**schema["schema"], "components": doc["components"]}).validate(
        body
    )
