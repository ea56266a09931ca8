"""`/admin/*` over REST: the streamed CSV, export jobs from request to download, refusals, docs."""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.csv_export import HEADER
from persistence import exports as jobs_repo
from persistence.models import ExportJob
from tests.conftest import Accounts
from tests.jobs_helpers import run_jobs
from tests.rest_helpers import bearer, conforms, data_of, document, error_of

EXPORT = "/admin/users/export"
CSV = "text/csv; charset=utf-8"
JOB_KEYS = {"job_id", "status", "row_count", "download_url", "error", "created_at", "finished_at"}


def rows_of(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))


async def wait_for_job(
    client: httpx.AsyncClient, admin: dict[str, str], job_id: str, timeout: float = 20
) -> dict[str, Any]:
    """Poll GET /admin/jobs/{id} until the job has finished or failed."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        job: dict[str, Any] = data_of(await client.get(f"/admin/jobs/{job_id}", headers=admin))
        if job["status"] in ("finished", "failed"):
            return job
        assert asyncio.get_running_loop().time() < deadline, job
        await asyncio.sleep(0.05)


async def add_job(accounts: Accounts, status: str, error: str | None = None) -> str:
    """A job row as a worker would have left it, without running anything."""
    now = datetime.now(UTC)
    job = ExportJob(id=f"{status}job", status=status, attempts=1, created_at=now, error=error)
    job.heartbeat_at = now  # a live lease: the sweep leaves a started job alone
    async with accounts.services.db.transaction() as session:
        await jobs_repo.insert(session, job)
    return job.id


def recording(app: ASGIApp, bodies: list[bytes]) -> ASGIApp:
    """`app`, noting each body message it sends (httpx's ASGI transport joins them)."""

    async def recorded(scope: Scope, receive: Receive, send: Send) -> None:
        async def note(message: Message) -> None:
            if message["type"] == "http.response.body" and message["body"]:
                bodies.append(message["body"])
            await send(message)

        await app(scope, receive, note)

    return recorded


async def test_the_csv_is_streamed_in_id_order_with_formulas_neutralised(
    app: Starlette, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = app.state.services  # several reads, each its own chunk
    monkeypatch.setattr(services, "settings", replace(services.settings, export_batch_size=2))
    admin = bearer(await accounts.admin_token())
    await accounts.user("quote@example.com", name='Smith, "Jo"')
    await accounts.user("formula@example.com", name='=HYPERLINK("x")')
    await accounts.user("at@example.com", name="@SUM(A1)")
    await accounts.user("zoe@example.com", name="Zoë Ünicode")
    chunks: list[bytes] = []
    # The address and User-Agent of the `client` fixture, which the token is bound to.
    transport = httpx.ASGITransport(app=recording(app, chunks), client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get(EXPORT, headers={**admin, "User-Agent": "pytest-client"})
    assert response.status_code == 200
    assert response.headers["content-type"] == CSV
    assert response.headers["content-disposition"] == 'attachment; filename="users.csv"'
    assert response.headers["cache-control"] == "no-store"
    assert "content-length" not in response.headers  # streamed, not rendered whole
    assert len(chunks) == 4  # the header, then one chunk per batch of two
    content = response.content
    assert b"".join(chunks) == content
    rows = rows_of(content)
    assert tuple(rows[0]) == HEADER
    assert [r[2] for r in rows[1:]] == [
        "admin@example.com",
        "quote@example.com",
        "formula@example.com",
        "at@example.com",
        "zoe@example.com",
    ]
    assert [int(r[0]) for r in rows[1:]] == sorted(int(r[0]) for r in rows[1:])
    assert [r[1] for r in rows[2:]] == [
        'Smith, "Jo"',
        '\'=HYPERLINK("x")',
        "'@SUM(A1)",
        "Zoë Ünicode",
    ]
    assert b'"Smith, ""Jo"""' in content
    assert content.endswith(b"\r\n")


async def test_the_csv_takes_the_filters_of_get_users(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    admin = bearer(await accounts.admin_token())
    for i in range(3):
        await accounts.user(f"keep{i}@keep.io", name=f"Keep {i}")
    gone = await accounts.user("gone@keep.io", name="Gone")
    await accounts.user("drop@example.com", name="Keeper of nothing", role="admin")
    assert (await client.delete(f"/users/{gone.id}", headers=admin)).status_code == 200

    async def emails(**params: str) -> list[str]:
        response = await client.get(EXPORT, params=params, headers=admin)
        assert response.status_code == 200, response.text
        return [row[2] for row in rows_of(response.content)[1:]]

    assert await emails(email="@KEEP.io") == [f"keep{i}@keep.io" for i in range(3)]
    assert await emails(email="keep.io", include_deleted="true") == [
        *(f"keep{i}@keep.io" for i in range(3)),
        "gone@keep.io",
    ]
    assert await emails(name="keep", role="admin") == ["drop@example.com"]
    assert await emails(name="nobody") == []
    error = error_of(
        await client.get(EXPORT, params={"page": "1", "role": "root"}, headers=admin),
        400,
        "VALIDATION_ERROR",
    )
    assert set(error["details"]) == {"page", "role"}


async def test_a_job_runs_and_its_file_downloads(
    client: httpx.AsyncClient, accounts: Accounts, settings: Any, backend: str
) -> None:
    admin = bearer(await accounts.admin_token())
    await accounts.user("keep@keep.io", name="=1+1")
    await accounts.user("drop@example.com")
    accepted = data_of(await client.post(f"{EXPORT}?email=keep", headers=admin), 202)
    assert accepted == {"job_id": accepted["job_id"], "status": "queued"}
    await run_jobs(settings, backend)
    job_id = accepted["job_id"]
    job = await wait_for_job(client, admin, job_id)
    assert set(job) == JOB_KEYS
    assert job["status"] == "finished", job
    assert (job["row_count"], job["error"]) == (1, None)
    assert job["download_url"] == f"/admin/jobs/{job_id}/download"
    assert job["finished_at"] is not None
    download = await client.get(job["download_url"], headers=admin)
    assert download.status_code == 200
    assert download.headers["content-type"] == CSV
    assert download.headers["content-disposition"] == f'attachment; filename="users-{job_id}.csv"'
    assert download.headers["cache-control"] == "no-store"
    streamed = await client.get(EXPORT, params={"email": "keep"}, headers=admin)
    assert download.content == streamed.content
    assert rows_of(download.content)[1][1] == "'=1+1"


async def test_a_job_takes_its_filters_from_a_json_body_or_the_query(
    client: httpx.AsyncClient, accounts: Accounts, settings: Any, backend: str
) -> None:
    admin = bearer(await accounts.admin_token())
    await accounts.user("keep@keep.io")
    await accounts.user("other@keep.io", role="admin")
    by_body = data_of(
        await client.post(EXPORT, json={"email": "keep.io", "role": "admin"}, headers=admin), 202
    )
    everyone = data_of(await client.post(EXPORT, headers=admin), 202)
    await run_jobs(settings, backend)
    assert (await wait_for_job(client, admin, by_body["job_id"]))["row_count"] == 1
    assert (await wait_for_job(client, admin, everyone["job_id"]))["row_count"] == 3
    both = await client.post(f"{EXPORT}?role=user", json={"role": "admin"}, headers=admin)
    assert set(error_of(both, 400, "VALIDATION_ERROR")["details"]) == {"query"}
    unknown = await client.post(EXPORT, json={"sort": "asc", "role": 1}, headers=admin)
    assert set(error_of(unknown, 400, "VALIDATION_ERROR")["details"]) == {"sort", "role"}
    not_json = await client.post(EXPORT, content=b"role=user", headers=admin)
    error_of(not_json, 415, "HTTP_ERROR")


async def test_unknown_unfinished_failed_and_expired_jobs(
    client: httpx.AsyncClient, accounts: Accounts, settings: Any, backend: str
) -> None:
    admin = bearer(await accounts.admin_token())
    error_of(await client.get("/admin/jobs/nope", headers=admin), 404, "NOT_FOUND")
    error_of(await client.get("/admin/jobs/nope/download", headers=admin), 404, "NOT_FOUND")
    started = await add_job(accounts, "started")
    job = data_of(await client.get(f"/admin/jobs/{started}", headers=admin))
    assert (job["status"], job["download_url"]) == ("started", None)
    error_of(await client.get(f"/admin/jobs/{started}/download", headers=admin), 404, "NOT_FOUND")
    failed = await add_job(accounts, "failed", error="Export failed (OSError)")
    job = data_of(await client.get(f"/admin/jobs/{failed}", headers=admin))
    assert (job["status"], job["error"], job["download_url"]) == (
        "failed",
        "Export failed (OSError)",
        None,
    )
    error_of(await client.get(f"/admin/jobs/{failed}/download", headers=admin), 404, "NOT_FOUND")
    accepted = data_of(await client.post(EXPORT, headers=admin), 202)
    await run_jobs(settings, backend)
    finished = await wait_for_job(client, admin, accepted["job_id"])
    await accounts.services.exports.delete(f"{accepted['job_id']}.csv")  # as retention does
    expired = await client.get(finished["download_url"], headers=admin)
    error_of(expired, 404, "NOT_FOUND")


async def test_admins_only(client: httpx.AsyncClient, accounts: Accounts) -> None:
    user = bearer(await accounts.token_for("u@example.com"))
    admin = bearer(await accounts.admin_token())
    job_id = data_of(await client.post(EXPORT, headers=admin), 202)["job_id"]
    for method, path in (
        ("GET", EXPORT),
        ("POST", EXPORT),
        ("GET", f"/admin/jobs/{job_id}"),
        ("GET", f"/admin/jobs/{job_id}/download"),
    ):
        error_of(await client.request(method, path, headers=user), 403, "FORBIDDEN")
        error_of(await client.request(method, path), 401, "MISSING_AUTH_HEADER")


async def test_the_document_lists_the_admin_and_service_routes(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    doc = await document(client)
    paths = doc["paths"]
    assert set(paths[EXPORT]) == {"get", "post"}
    assert set(paths["/admin/jobs/{job_id}"]) == {"get"}
    assert set(paths["/admin/jobs/{job_id}/download"]) == {"get"}
    for path in ("/health", "/ready", "/metrics"):
        assert set(paths[path]) == {"get"}
    csv_answer = paths[EXPORT]["get"]["responses"]["200"]
    assert set(csv_answer["content"]) == {"text/csv"}
    assert "Content-Disposition" in csv_answer["headers"]
    assert [p["name"] for p in paths[EXPORT]["get"]["parameters"]] == [
        "name",
        "email",
        "role",
        "include_deleted",
    ]
    assert paths[EXPORT]["post"]["requestBody"]["required"] is False
    job_param = paths["/admin/jobs/{job_id}"]["get"]["parameters"][0]
    assert (job_param["name"], job_param["schema"]["type"]) == ("job_id", "string")
    assert set(paths["/ready"]["get"]["responses"]) == {"200", "503"}

    admin = bearer(await accounts.admin_token())
    accepted = await client.post(EXPORT, headers=admin)
    conforms(doc, EXPORT, "post", 202, accepted.json())
    job = await client.get(f"/admin/jobs/{accepted.json()['data']['job_id']}", headers=admin)
    conforms(doc, "/admin/jobs/{job_id}", "get", 200, job.json())
    missing = await client.get("/admin/jobs/x", headers=admin)
    conforms(doc, "/admin/jobs/{job_id}", "get", 404, missing.json())
    conforms(doc, "/health", "get", 200, (await client.get("/health")).json())
    conforms(doc, "/ready", "get", 200, (await client.get("/ready")).json())
