"""The SDK's audit methods (async and blocking): pages, every event, filters, the CSV export."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from starlette.applications import Starlette

from core.audit import AuditAction
from core.settings import Settings
from resolvers.audit_log import record
from tests.conftest import PASSWORD, Accounts
from tests.jobs_helpers import run_jobs
from tests.test_client import ROOT

if str(ROOT / "client") not in sys.path:  # the SDK from the checkout, as tests/test_client.py
    sys.path.insert(0, str(ROOT / "client"))

from client import APIClient, AsyncAPIClient, Forbidden, ValidationError
from tests.test_client import ADMIN, live_server, sdk_for  # noqa: F401 (a fixture)


@pytest.fixture
async def sdk(app: Starlette) -> AsyncIterator[AsyncAPIClient]:
    async with sdk_for(app) as api:
        yield api


async def test_audit_events_through_the_async_sdk(
    sdk: AsyncAPIClient, accounts: Accounts, settings: Settings, backend: str
) -> None:
    admin = await accounts.user(ADMIN, role="admin")
    user = await accounts.user("user@example.com")
    await sdk.login("user@example.com", PASSWORD)
    with pytest.raises(Forbidden):
        await sdk.list_audit_events()
    await sdk.login(ADMIN, PASSWORD)
    start = datetime.now(UTC) - timedelta(days=1)
    async with accounts.services.db.transaction() as session:
        for i in range(130):
            await record(
                session, None, AuditAction.USER_UPDATED, subject_id=user.id, details={"i": i}
            )
    page = await sdk.list_audit_events(first=5, action="user.updated")
    assert [e["details"] for e in page["items"]] == [{"i": i} for i in range(129, 124, -1)]
    assert page["next_cursor"] is not None
    following = await sdk.list_audit_events(
        first=5, after=page["next_cursor"], action="user.updated"
    )
    assert following["items"][0]["details"] == {"i": 124}
    every = [e async for e in sdk.iter_audit_events(subject_id=user.id, since=start)]
    assert len(every) == 132  # user.created, its login, the 130: two pages of 100
    assert every[-1]["action"] == "user.created" and every[-1]["subject_id"] == user.id
    logins = [e async for e in sdk.iter_audit_events(action="login.succeeded")]
    assert [e["actor_id"] for e in logins] == [admin.id, user.id]
    assert logins[0]["user_agent"] and logins[0]["ip_address"] == "203.0.113.7"
    with pytest.raises(ValidationError):
        await sdk.list_audit_events(action="not.an.action")
    with pytest.raises(TypeError):
        await sdk.list_audit_events(actor=1)  # type: ignore[call-arg]
    job = await sdk.start_audit_export(action="login.succeeded")
    await run_jobs(settings, backend)  # an rq worker on MySQL + Redis; in process otherwise
    done = await sdk.wait_for_export(job["job_id"], timeout=20, poll_interval=0.05)
    assert done["row_count"] == 2


def test_blocking_client_audit_on_a_real_server(
    live_server: tuple[str, Starlette],  # noqa: F811
) -> None:
    url, _app = live_server
    with APIClient(url) as api:
        api.login(ADMIN, PASSWORD)
        api.create_user("Dee", "dee@example.com", PASSWORD)
        page = api.list_audit_events(first=2)
        assert [e["action"] for e in page["items"]] == ["email.verification_sent", "user.created"]
        assert all(e["actor_id"] == page["items"][0]["actor_id"] for e in page["items"])
        assert [e["action"] for e in api.iter_audit_events(action="login.succeeded")] == [
            "login.succeeded"
        ]
