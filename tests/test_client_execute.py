"""The SDK's `execute()` for the caller's own documents (sync and async), and its automatic
persisted queries."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from core.settings import Settings
from server.app import create_app
from tests.conftest import PASSWORD, Accounts
from tests.test_client import (  # first: it puts the SDK's folder on sys.path
    ADMIN,
    PEER,
    live_server,  # noqa: F401 - a fixture
)

# isort: off
from client import APIClient, AsyncAPIClient, Forbidden, ValidationError
# isort: on

MINE = "query Mine($s: Boolean!) { skipped: __typename @skip(if: $s) me { email } }"


class Recording(httpx.ASGITransport):
    """The in-process app, and the JSON body of every request sent to it."""

    def __init__(self, app: Starlette) -> None:
        super().__init__(app=app, client=PEER)
        self.sent: list[dict[str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(json.loads(request.content))
        return await super().handle_async_request(request)


async def test_execute_runs_a_document_of_the_callers_own(
    app: Starlette, accounts: Accounts
) -> None:
    await accounts.user("ada@example.com")
    transport = Recording(app)
    async with AsyncAPIClient("http://testserver", transport=transport) as api:
        await api.login("ada@example.com", PASSWORD)
        data = await api.execute(MINE, {"s": True})
        assert data == {"me": {"email": "ada@example.com"}}
        named = await api.execute(
            "query A { __typename } query B { me { email } }", operation_name="B"
        )
        assert named == {"me": {"email": "ada@example.com"}}
        with pytest.raises(Forbidden):  # the server's refusal, typed as every method's
            await api.execute("{ users { items { email } } }")
        sent = len(transport.sent)
        for wrong in ("{ nope }", "{ health {", "query($x: Int) { health { status } } extra"):
            with pytest.raises(ValidationError):
                await api.execute(wrong)
        assert len(transport.sent) == sent  # refused before anything was sent


def test_execute_on_the_blocking_client(live_server: tuple[str, Starlette]) -> None:  # noqa: F811
    url, _ = live_server
    with APIClient(url) as api:
        api.login(ADMIN, PASSWORD)
        data = api.execute("query($p: Int!) { users(perPage: $p) { items { email } } }", {"p": 1})
        assert data == {"users": {"items": [{"email": ADMIN}]}}


async def test_persisted_queries_send_the_hash_then_the_document_once(
    app: Starlette, accounts: Accounts
) -> None:
    await accounts.user("ada@example.com")
    transport = Recording(app)
    async with AsyncAPIClient(
        "http://testserver", transport=transport, persisted_queries=True
    ) as api:
        await api.login("ada@example.com", PASSWORD)
        first = await api.get_current_user()
        second = await api.get_current_user()
    assert first == second
    # login and the first `me`: the hash alone, then hash and document; the second `me`: a hit
    assert ["query" in body for body in transport.sent] == [False, True, False, True, False]
    assert all("persistedQuery" in body["extensions"] for body in transport.sent)


async def test_a_server_without_them_gets_plain_documents(
    settings: Settings, accounts: Accounts
) -> None:
    app = create_app(settings.with_(graphql_apq=False))
    async with app.router.lifespan_context(app):
        transport = Recording(app)
        async with AsyncAPIClient(
            "http://testserver", transport=transport, persisted_queries=True
        ) as api:
            assert "status" in await api.health()
            assert "status" in await api.health()
    # refused once by hash, then plain documents from then on
    assert ["extensions" in body for body in transport.sent] == [True, False, False]
