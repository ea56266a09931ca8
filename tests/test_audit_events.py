"""The audit log as read: `auditEvents` for admins (newest first, keyset cursor, filters, actors
and subjects batched), its CSV export job on both transports, and retention."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from core.audit import AuditAction
from core.settings import Settings, SettingsError
from resolvers.audit_events import HEADER
from resolvers.audit_log import record
from resolvers.retention import purge_old_audit_events
from tests.audit_helpers import EVENTS, actions, stored_events
from tests.conftest import Accounts, GraphQLClient, error_codes, in_app_background, listen_to_sql
from tests.jobs_helpers import run_jobs
from tests.rest_helpers import bearer, data_of, error_of

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
EXPORT = "mutation($f: AuditFilter) { exportAuditEvents(filter: $f) { id status } }"
JOB = "query($id: ID!) { exportJob(id: $id) { status rowCount downloadUrl } }"


async def seed(services: Any, count: int, *, actor: int | None = None) -> None:
    """`count` events, a minute apart from T0 on, every third one sharing its neighbour's time
    (the id breaks the tie); actions alternate between two."""
    async with services.db.transaction() as session:
        for i in range(count):
            minute = i - (1 if i % 3 == 2 else 0)
            action = AuditAction.LOGOUT if i % 2 else AuditAction.USER_UPDATED
            await record(
                session,
                None,
                action,
                actor_id=actor,
                subject_id=1000 + i,
                details={"i": i},
                at=T0 + timedelta(minutes=minute),
            )


async def page(gql: GraphQLClient, token: str, **variables: Any) -> dict[str, Any]:
    body = await gql(EVENTS, variables, token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["auditEvents"]
    return result


def cursor_of(raw: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(raw)).decode().rstrip("=")


async def test_admins_only_and_declared_in_the_schema(
    gql: GraphQLClient, accounts: Accounts
) -> None:
    user = await accounts.token_for("user@example.com")
    assert error_codes(await gql(EVENTS, {}, user)) == ["FORBIDDEN"]
    assert error_codes(await gql(EVENTS, {})) == ["MISSING_AUTH_HEADER"]
    assert error_codes(await gql(EXPORT, {}, user)) == ["FORBIDDEN"]
    sdl = (ROOT / "schema.graphql").read_text()
    assert (
        "auditEvents(first: Int = 50, after: String, filter: AuditFilter): AuditPage! "
        "@hasRole(role: ADMIN)"
    ) in sdl
    assert "exportAuditEvents(filter: AuditFilter): ExportJob! @hasRole(role: ADMIN)" in sdl


async def test_pages_walk_every_event_newest_first(gql: GraphQLClient, accounts: Accounts) -> None:
    admin = await accounts.admin_token()
    await seed(accounts.services, 10)
    stored = await stored_events(accounts.services)
    expected = [str(e.id) for e in sorted(stored, key=lambda e: (e.at, e.id), reverse=True)]
    seen: list[str] = []
    after = None
    for _ in range(10):
        result = await page(gql, admin, first=3, after=after)
        seen += [item["id"] for item in result["items"]]
        if not result["hasNextPage"]:
            break
        after = result["endCursor"]
    assert seen == expected  # ties on `at` broken by id, none lost or repeated
    assert len(seen) == 12  # the admin's user.created and login.succeeded, and the 10
    empty = await page(gql, admin, filter={"action": "mfa.reset"})
    assert empty == {"items": [], "endCursor": None, "hasNextPage": False}


@pytest.mark.parametrize(
    "after",
    [
        "garbage!",
        cursor_of(["not a time", 1]),
        cursor_of(["2026-03-01T12:00:00", 1]),  # no offset
        cursor_of(["2026-03-01T12:00:00+00:00", -1]),
        cursor_of(["2026-03-01T12:00:00+00:00", "1"]),
        cursor_of({"at": "2026-03-01T12:00:00+00:00"}),
        "A" * 500,
    ],
)
async def test_a_forged_cursor_is_a_validation_error(
    gql: GraphQLClient, accounts: Accounts, after: str
) -> None:
    admin = await accounts.admin_token()
    body = await gql(EVENTS, {"after": after}, admin)
    assert error_codes(body) == ["VALIDATION_ERROR"]
    assert list(body["errors"][0]["extensions"]["details"]) == ["after"]


async def test_filters_and_their_validation(gql: GraphQLClient, accounts: Accounts) -> None:
    admin = await accounts.admin_token()
    services = accounts.services
    actor = await accounts.user("actor@example.com")
    await seed(services, 6, actor=actor.id)

    def ids(result: dict[str, Any]) -> list[int]:
        return [int(item["subject"]["id"]) if item["subject"] else 0 for item in result["items"]]

    logouts = await page(gql, admin, filter={"action": "logout"})
    assert {item["action"] for item in logouts["items"]} == {"logout"}
    assert len(logouts["items"]) == 3
    mine = await page(gql, admin, filter={"actorId": str(actor.id)})
    assert len(mine["items"]) == 6
    assert {item["actor"]["id"] for item in mine["items"]} == {str(actor.id)}
    one = await page(gql, admin, filter={"subjectId": "1004"})
    assert [item["details"] for item in one["items"]] == [{"i": 4}]
    window = {
        "since": (T0 + timedelta(minutes=1)).isoformat(),
        "until": (T0 + timedelta(minutes=3)).isoformat(),
    }
    timed = await page(gql, admin, filter={**window, "actorId": str(actor.id)})
    assert sorted(item["details"]["i"] for item in timed["items"]) == [1, 2, 3]
    both = await page(gql, admin, filter={**window, "action": "logout"})
    assert sorted(item["details"]["i"] for item in both["items"]) == [1, 3]
    assert ids(one) == [0]  # subject 1004 is no user: null, not an error

    for bad, field in (
        ({"action": "user.exploded"}, "action"),
        ({"actorId": "abc"}, "actorId"),
        ({"subjectId": "-1"}, "subjectId"),
        ({"since": "2026-03-01T12:00:00"}, "since"),  # no offset: which day is that?
        ({"since": "2026-03-02T00:00:00+00:00", "until": "2026-03-01T00:00:00+00:00"}, "until"),
    ):
        body = await gql(EVENTS, {"filter": bad}, admin)
        assert error_codes(body) == ["VALIDATION_ERROR"], (bad, body)
        assert field in body["errors"][0]["extensions"]["details"], body
    for first in (0, 101, -5):
        body = await gql(EVENTS, {"first": first}, admin)
        assert error_codes(body) == ["VALIDATION_ERROR"]
        assert "first" in body["errors"][0]["extensions"]["details"]


async def test_actors_and_subjects_load_in_one_query_per_level(
    gql: GraphQLClient, accounts: Accounts
) -> None:
    admin = await accounts.admin_token()
    services = accounts.services
    users = [await accounts.user(f"u{i}@example.com") for i in range(12)]
    async with services.db.transaction() as session:
        for i, user in enumerate(users):
            await record(
                session,
                None,
                AuditAction.USER_UPDATED,
                actor_id=users[-1 - i].id,
                subject_id=user.id,
            )
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and not in_app_background():
            statements.append(statement)

    doc = (
        "query($f: Int) { auditEvents(first: $f) { items { action actor { id email "
        "createdBy { id } } subject { id email } } } }"
    )
    sizes = {}
    stop = listen_to_sql(services.db, count)
    try:
        for first in (2, 30):
            statements.clear()
            body = await gql(doc, {"f": first}, admin)
            assert "errors" not in body, body
            sizes[first] = len(statements)
            items = body["data"]["auditEvents"]["items"]
    finally:
        stop()
    assert len(items) == 26  # 13 user.created, the admin's login, 12 user.updated
    with_users = [i for i in items if i["action"] == "user.updated"]
    assert all(i["actor"] and i["subject"] for i in with_users)
    # The token's check, the page, and one batched SELECT of users (actor and subject share
    # it), whatever the page size; users the cache already holds cost none.
    assert sizes[2] <= 3 and sizes[30] <= 3, sizes
    batches = [s for s in statements if "users.id IN" in s]
    assert len(batches) <= 1, batches


async def test_the_filtered_events_export_as_csv_on_both_transports(
    gql: GraphQLClient,
    accounts: Accounts,
    client: httpx.AsyncClient,
    settings: Settings,
    backend: str,
) -> None:
    admin = await accounts.admin_token()
    await accounts.user("user@example.com")
    await accounts.login("user@example.com", headers={"User-Agent": "=cmd|' /C calc'!A0"})
    started = (await gql(EXPORT, {"f": {"action": "login.succeeded"}}, admin))["data"]
    job_id = started["exportAuditEvents"]["id"]
    await run_jobs(settings, backend)
    job: dict[str, Any] = {}
    for _ in range(200):
        job = (await gql(JOB, {"id": job_id}, admin))["data"]["exportJob"]
        if job["status"] in ("FINISHED", "FAILED"):
            break
        await asyncio.sleep(0.05)
    assert job["status"] == "FINISHED" and job["rowCount"] == 2, job
    download = await client.get(job["downloadUrl"], headers=bearer(admin))
    assert download.status_code == 200, download.text
    assert f'filename="audit-events-{job_id}.csv"' in download.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(download.content.decode(), newline="")))
    assert tuple(rows[0]) == HEADER
    assert [r[2] for r in rows[1:]] == ["login.succeeded", "login.succeeded"]
    assert rows[1][6] == "'=cmd|' /C calc'!A0"  # the newest first, its formula neutralised
    assert rows[2][6] == "pytest-client"
    assert (await actions(accounts.services))[-2:] == ["export.requested", "export.downloaded"]
    requested = (await stored_events(accounts.services, "export.requested"))[0]
    assert orjson.loads(requested.details or "{}")["filter"]["action"] == "login.succeeded"

    accepted = data_of(
        await client.post(
            "/admin/audit-events/export",
            json={"actor_id": 1, "since": "2026-01-01T00:00:00+00:00"},
            headers=bearer(admin),
        ),
        202,
    )
    assert accepted["status"] == "queued" and accepted["job_id"]
    for body, field in (
        ({"action": "nope"}, "action"),
        ({"since": "yesterday"}, "since"),
        ({"actor_id": "x"}, "actor_id"),
    ):
        refused = await client.post("/admin/audit-events/export", json=body, headers=bearer(admin))
        assert field in error_of(refused, 400, "VALIDATION_ERROR")["details"]
    user = (await accounts.login("user@example.com"))["accessToken"]
    error_of(
        await client.post("/admin/audit-events/export", json={}, headers=bearer(user)),
        403,
        "FORBIDDEN",
    )


async def test_retention_deletes_events_older_than_the_setting(accounts: Accounts) -> None:
    services = accounts.services
    now = services.clock.now()
    async with services.db.transaction() as session:
        for days in (400, 366, 364, 1):
            await record(
                session,
                None,
                AuditAction.LOGOUT,
                details={"days": days},
                at=now - timedelta(days=days),
            )
    kept_forever = services.settings
    services.settings = kept_forever.with_(audit_retention_days=0)
    assert await purge_old_audit_events(services) == 0
    services.settings = kept_forever  # the default: 365 days
    assert kept_forever.audit_retention_days == 365
    assert await purge_old_audit_events(services) == 2
    left = [orjson.loads(e.details or "{}")["days"] for e in await stored_events(services)]
    assert left == [364, 1]


def test_audit_retention_days_is_checked() -> None:
    with pytest.raises(SettingsError, match="AUDIT_RETENTION_DAYS"):
        Settings.from_env({"AUDIT_RETENTION_DAYS": "-1"})
    assert Settings.from_env({"AUDIT_RETENTION_DAYS": "30"}).audit_retention_days == 30
