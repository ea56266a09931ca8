"""The SDK in client/: the async client against the in-process app on both backends, the sync
client and the example script against a real server on loopback.

The SDK is its own distribution (`pip install ./client`); these tests import it from the
checkout, the way the example script does.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from graphql import validate
from starlette.applications import Starlette

from core.settings import Settings
from server.app import create_app
from tests.conftest import PASSWORD, Accounts

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "client") not in sys.path:
    sys.path.insert(0, str(ROOT / "client"))

from client.core import packaged_schema  # noqa: E402
from client.errors import from_graphql_errors, from_rest_error  # noqa: E402

from client import (  # noqa: E402 - from the checkout, see above
    USER_AGENT,
    APIClient,
    APIError,
    AsyncAPIClient,
    AuthenticationError,
    EmailExists,
    Forbidden,
    InternalError,
    InvalidCredentials,
    LastAdmin,
    MissingAuthHeader,
    NetworkError,
    NotFound,
    PayloadTooLarge,
    QueryTooComplex,
    RateLimited,
    SDKError,
    TokenContextMismatch,
    TokenExpired,
    TokenInvalid,
    TokenRevoked,
    User,
    UserNotFound,
    ValidationError,
    VersionConflict,
    operations,
)
from client import errors as sdk_errors  # noqa: E402

ADMIN = "admin@example.com"
PEER = ("203.0.113.7", 50000)


class LaterClock:
    def __init__(self, seconds: float) -> None:
        self.at = datetime.now(UTC) + timedelta(seconds=seconds)

    def now(self) -> datetime:
        return self.at


def sdk_for(app: Starlette, **options: Any) -> AsyncAPIClient:
    transport = httpx.ASGITransport(app=app, client=PEER)
    return AsyncAPIClient("http://testserver", transport=transport, **options)


@pytest.fixture
async def sdk(app: Starlette) -> AsyncIterator[AsyncAPIClient]:
    async with sdk_for(app) as api:
        yield api


@pytest.fixture
async def admin(sdk: AsyncAPIClient, accounts: Accounts) -> AsyncAPIClient:
    await accounts.user(ADMIN, name="Ada Admin", role="admin")
    await sdk.login(ADMIN, PASSWORD)
    return sdk


# The package


def test_packaged_schema_is_the_servers() -> None:
    packaged = ROOT / "client" / "client" / "schema.graphql"
    assert packaged.read_text() == (ROOT / "schema.graphql").read_text(), (
        "client/client/schema.graphql is stale: cp schema.graphql client/client/schema.graphql"
    )


def test_every_document_is_valid_on_the_schema() -> None:
    for request in operations.ALL:
        assert validate(packaged_schema(), request.document) == []


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("VALIDATION_ERROR", ValidationError),
        ("INVALID_CREDENTIALS", InvalidCredentials),
        ("TOKEN_EXPIRED", TokenExpired),
        ("TOKEN_REVOKED", TokenRevoked),
        ("TOKEN_INVALID", TokenInvalid),
        ("MISSING_AUTH_HEADER", MissingAuthHeader),
        ("TOKEN_CONTEXT_MISMATCH", TokenContextMismatch),
        ("FORBIDDEN", Forbidden),
        ("NOT_FOUND", NotFound),
        ("USER_NOT_FOUND", UserNotFound),
        ("EMAIL_EXISTS", EmailExists),
        ("VERSION_CONFLICT", VersionConflict),
        ("LAST_ADMIN", LastAdmin),
        ("PAYLOAD_TOO_LARGE", PayloadTooLarge),
        ("HTTP_ERROR", sdk_errors.HTTPError),
        ("QUERY_TOO_COMPLEX", QueryTooComplex),
        ("RATE_LIMITED", RateLimited),
        ("SERVICE_UNAVAILABLE", sdk_errors.ServiceUnavailable),
        ("INTERNAL_ERROR", InternalError),
        ("QUERY_NOT_IN_SAFELIST", sdk_errors.QueryNotInSafelist),
        ("PERSISTED_QUERY_NOT_FOUND", sdk_errors.PersistedQueryNotFound),
        ("PERSISTED_QUERY_NOT_SUPPORTED", sdk_errors.PersistedQueryNotSupported),
        ("SOMETHING_NEW", APIError),
    ],
)
def test_every_contract_code_has_its_class(code: str, cls: type[APIError]) -> None:
    error = sdk_errors.from_graphql_errors(
        [{"message": "m", "extensions": {"code": code, "details": {"f": ["x"]}}}]
    )
    assert type(error) is cls
    assert (error.code, error.message, error.details) == (code, "m", {"f": ["x"]})
    assert isinstance(error, SDKError)
    tokens = code.startswith(("TOKEN_", "MISSING_", "INVALID_CRED"))
    assert isinstance(error, AuthenticationError) is tokens
    assert not issubclass(NetworkError, APIError)


# Sessions


async def test_login_me_refresh_logout(
    sdk: AsyncAPIClient, accounts: Accounts, app: Starlette
) -> None:
    await accounts.user(ADMIN, name="Ada Admin", role="admin")
    pair = await sdk.login(ADMIN, PASSWORD)
    assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert sdk.access_token == pair["access_token"]
    me = await sdk.get_current_user()
    assert set(me) == set(User.__annotations__)
    assert (me["email"], me["role"], me["is_active"]) == (ADMIN, "admin", True)
    assert isinstance(me["id"], int) and me["etag"] and me["created_at"].endswith("+00:00")

    rotated = await sdk.refresh()
    assert rotated["refresh_token"] != pair["refresh_token"]
    assert (await sdk.get_current_user())["id"] == me["id"]
    async with sdk_for(app, access_token=pair["access_token"]) as stale:
        with pytest.raises(TokenRevoked):
            await stale.get_current_user()

    await sdk.logout()
    assert sdk.access_token is None and sdk.refresh_token is None
    with pytest.raises(MissingAuthHeader):
        await sdk.get_current_user()
    with pytest.raises(MissingAuthHeader):
        await sdk.refresh()
    async with sdk_for(app, access_token=rotated["access_token"]) as logged_out:
        with pytest.raises(TokenRevoked):
            await logged_out.get_current_user()


async def test_logout_all_ends_the_other_sessions(
    app: Starlette, accounts: Accounts, sdk: AsyncAPIClient
) -> None:
    await accounts.user()
    async with sdk_for(app) as laptop:
        await laptop.login("user@example.com", PASSWORD)
        await sdk.login("user@example.com", PASSWORD)
        await sdk.logout_all()
        with pytest.raises(TokenRevoked):
            await laptop.get_current_user()


async def test_register_is_idempotent_and_public_only_for_users(sdk: AsyncAPIClient) -> None:
    user = await sdk.register("Bea", "bea@example.com", PASSWORD)
    assert (user["role"], user["created_by"]) == ("user", None)
    assert (await sdk.register("Bea", "bea@example.com", PASSWORD))["id"] == user["id"]
    with pytest.raises(EmailExists):
        await sdk.register("Bea", "bea@example.com", "another passphrase")
    with pytest.raises(Forbidden):
        await sdk.register("Eve", "eve@example.com", PASSWORD, role="admin")
    with pytest.raises(ValidationError) as bad:
        await sdk.register("", "not-an-email", "x")
    assert {"email", "password"} <= set(bad.value.details)
    await sdk.login("bea@example.com", PASSWORD)
    assert (await sdk.get_current_user())["email"] == "bea@example.com"


async def test_wrong_tokens_have_their_own_classes(
    app: Starlette, accounts: Accounts, sdk: AsyncAPIClient
) -> None:
    with pytest.raises(InvalidCredentials):
        await sdk.login("nobody@example.com", "wrong password")
    await accounts.user()
    pair = await sdk.login("user@example.com", PASSWORD)
    async with sdk_for(app, access_token="not.a.token") as forged:
        with pytest.raises(TokenInvalid):
            await forged.get_current_user()
    async with sdk_for(app, access_token=pair["access_token"], user_agent="thief") as thief:
        with pytest.raises(TokenContextMismatch):
            await thief.get_current_user()
    with pytest.raises(Forbidden):
        await sdk.list_users()


# Transparent refresh


async def test_expired_token_is_refreshed_once_and_the_call_retried(
    admin: AsyncAPIClient, app: Starlette
) -> None:
    before = (admin.access_token, admin.refresh_token)
    app.state.services.clock = LaterClock(601)
    me = await admin.get_current_user()
    assert me["email"] == ADMIN
    assert admin.access_token != before[0] and admin.refresh_token != before[1]
    async with sdk_for(app, access_token=before[0]) as old:
        with pytest.raises(TokenExpired):
            await old.get_current_user()  # no refresh token: nothing to retry with


async def test_concurrent_expired_calls_refresh_only_once(
    admin: AsyncAPIClient, app: Starlette
) -> None:
    app.state.services.clock = LaterClock(601)
    results = await asyncio.gather(*(admin.get_current_user() for _ in range(5)))
    assert {user["email"] for user in results} == {ADMIN}
    # A second refresh with the same pair would have been taken as reuse and ended the session.
    assert (await admin.list_users())["meta"]["total"] == 1


async def test_a_session_past_its_lifetime_is_not_retried(
    admin: AsyncAPIClient, app: Starlette
) -> None:
    app.state.services.clock = LaterClock(2_592_001)
    with pytest.raises(TokenExpired):
        await admin.get_current_user()


# Users


async def test_admin_crud_with_etags(admin: AsyncAPIClient) -> None:
    created = await admin.create_user("Cy", "cy@example.com", PASSWORD)
    me = await admin.get_current_user()
    assert (created["role"], created["created_by"], created["version"]) == ("user", me["id"], 1)
    assert await admin.get_user(created["id"]) == created
    assert await admin.get_user(str(created["id"])) == created

    renamed = await admin.update_user(created["id"], name="Cyrus", if_match=created["etag"])
    assert (renamed["name"], renamed["version"]) == ("Cyrus", 2)
    assert renamed["etag"] != created["etag"]
    with pytest.raises(VersionConflict) as stale:
        await admin.update_user(created["id"], name="Lost write", if_match=created["etag"])
    assert stale.value.current_etag == renamed["etag"]
    current = await admin.get_user(created["id"])
    assert current is not None and current["name"] == "Cyrus"
    promoted = await admin.update_user(created["id"], role="admin", is_active=False)
    assert (promoted["role"], promoted["is_active"]) == ("admin", False)
    with pytest.raises(TypeError):
        await admin.update_user(created["id"], nmae="typo")  # type: ignore[call-arg]

    with pytest.raises(VersionConflict):
        await admin.delete_user(created["id"], if_match=created["etag"])
    await admin.delete_user(created["id"], if_match=promoted["etag"])
    assert await admin.get_user(created["id"]) is None
    deleted = await admin.list_users(email="cy@", include_deleted=True)
    assert [u["deleted_at"] is not None for u in deleted["items"]] == [True]
    with pytest.raises(UserNotFound):
        await admin.update_user(created["id"], name="Ghost")
    with pytest.raises(EmailExists):
        await admin.create_user("Dup", ADMIN, PASSWORD)


async def test_the_last_admin_stays_an_admin(admin: AsyncAPIClient) -> None:
    me = await admin.get_current_user()
    with pytest.raises(LastAdmin):
        await admin.update_user(me["id"], role="user")
    with pytest.raises(LastAdmin):
        await admin.delete_user(me["id"])
    assert (await admin.get_current_user())["role"] == "admin"


async def test_list_users_takes_the_legacy_parameters(admin: AsyncAPIClient) -> None:
    for n in range(5):
        await admin.create_user(f"Member {n}", f"m{n}@example.com", PASSWORD)
    page = await admin.list_users(page=2, per_page=2, sort="asc", sort_by="email", name="member")
    assert [u["email"] for u in page["items"]] == ["m2@example.com", "m3@example.com"]
    assert page["meta"] == {
        "page": 2,
        "per_page": 2,
        "total": 5,
        "pages": 3,
        "sort": "asc",
        "sort_by": "email",
        "has_next_page": True,
        "has_previous_page": True,
        "next_cursor": page["meta"]["next_cursor"],
    }
    after = await admin.list_users(
        after=page["meta"]["next_cursor"] or "", per_page=2, sort="asc", sort_by="email"
    )
    assert [u["email"] for u in after["items"]] == ["m4@example.com"]
    assert (after["meta"]["page"], after["meta"]["next_cursor"]) == (None, None)
    admins = await admin.list_users(role="admin")
    assert [u["email"] for u in admins["items"]] == [ADMIN]
    default = await admin.list_users()
    assert (default["meta"]["sort"], default["meta"]["per_page"]) == ("desc", 20)

    walked = [u["email"] async for u in admin.iter_users(per_page=2)]
    assert walked == [ADMIN] + [f"m{n}@example.com" for n in range(5)]
    assert [u["name"] async for u in admin.iter_users(name="member 4")] == ["Member 4"]
    seen = []
    async for user in admin.iter_users(per_page=2):  # deleting read users shifts nothing
        seen.append(user["email"])
        if user["email"] != ADMIN:
            await admin.delete_user(user["id"])
    assert seen == walked

    with pytest.raises(ValidationError) as bad:
        await admin.list_users(per_page=500, page=0)
    assert set(bad.value.details) >= {"perPage", "page"}
    with pytest.raises(ValidationError):
        await admin.list_users(sort_by="password")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await admin.list_users(perpage=5)  # type: ignore[call-arg]


async def test_health(sdk: AsyncAPIClient) -> None:
    assert (await sdk.health())["database"] == "ok"


# Exports


async def test_export_job_lifecycle(
    admin: AsyncAPIClient, settings: Settings, backend: str
) -> None:
    from tests.jobs_helpers import run_jobs

    await admin.create_user("Exported", "exported@example.com", PASSWORD)
    job = await admin.export_users(email="exported")
    assert job["status"] in ("queued", "started", "finished") and job["row_count"] is None
    await run_jobs(settings, backend)
    done = await admin.wait_for_export(job["job_id"], timeout=30, poll_interval=0.05)
    assert (done["status"], done["row_count"]) == ("finished", 1)
    assert done["download_url"] == f"/admin/jobs/{job['job_id']}/download"
    with pytest.raises(NotFound):
        await admin.get_export_job("no-such-job")
    if backend == "embedded":  # the in-process worker runs it while we wait
        waited = await admin.export_users(wait=True, timeout=30, poll_interval=0.05)
        assert waited["row_count"] == 2
    csv = await admin.download_export(done)
    assert b"exported@example.com" in csv and csv.count(b"\n") == 2


class Origins(httpx.AsyncBaseTransport):
    """Each host answered by its own in-process app: the API, and a stranger's server."""

    def __init__(self, apps: dict[str, Any]) -> None:
        self.hosts = {host: httpx.ASGITransport(app=app, client=PEER) for host, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.hosts[request.url.host].handle_async_request(request)


def finished_job(download_url: str) -> Any:
    return {"job_id": "j", "status": "finished", "download_url": download_url, "error": None}


async def test_the_token_goes_only_to_the_apis_own_origin(
    app: Starlette, accounts: Accounts
) -> None:
    """A `download_url` on another origin is fetched without the bearer token; the API's own
    origin, given as a path or absolutely, gets it."""
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    seen: list[str | None] = []

    async def stranger(request: Any) -> PlainTextResponse:
        seen.append(request.headers.get("authorization"))
        return PlainTextResponse("id,email\n")

    elsewhere = Starlette(routes=[Route("/{path:path}", stranger)])
    await accounts.user(ADMIN, role="admin")
    transport = Origins({"testserver": app, "elsewhere.example": elsewhere})
    async with AsyncAPIClient("http://testserver", transport=transport) as api:
        await api.login(ADMIN, PASSWORD)
        for url in (
            "http://elsewhere.example/steal.csv",
            "http://testserver@elsewhere.example/admin/jobs/j/download",
        ):
            assert await api.download_export(finished_job(url)) == b"id,email\n"
        assert len(seen) == 2
        assert not [header for header in seen if header and "Bearer" in header]
        for own in ("/admin/jobs/nope/download", "http://testserver:80/admin/jobs/nope/download"):
            with pytest.raises(NotFound):  # signed in: the API looked for the job
                await api.download_export(finished_job(own))
        with pytest.raises(MissingAuthHeader):  # another scheme is another origin
            await api.download_export(finished_job("https://testserver/admin/jobs/nope/download"))


def test_both_clients_sign_downloads_only_on_the_apis_origin() -> None:
    """The rule both clients' downloads take their URL and headers from."""
    from client.core import ClientCore

    core = ClientCore(
        "https://api.example/v1", user_agent=None, timeout=1, access_token="t", refresh_token=None
    )
    signed = {"Authorization": "Bearer t"}
    assert core.download_target("/admin/jobs/j/download") == (
        "https://api.example/v1/admin/jobs/j/download",
        signed,
    )
    assert core.download_target("https://API.example:443/x")[1] == signed
    for foreign in (
        "http://api.example/x",
        "https://api.example:8443/x",
        "https://api.example.evil.test/x",
        "https://api.example@evil.test/x",
    ):
        assert core.download_target(foreign) == (foreign, {}), foreign


async def test_synchronous_csv_export(admin: AsyncAPIClient) -> None:
    csv = await admin.admin_export_users()
    assert ADMIN.encode() in csv


# Failures outside the happy path


async def test_rate_limited_carries_retry_after(settings: Settings, accounts: Accounts) -> None:
    await accounts.user()
    limited = create_app(settings.with_(login_rate_limit_account="2/minute"))
    async with limited.router.lifespan_context(limited), sdk_for(limited) as api:
        for _ in range(2):
            with pytest.raises(InvalidCredentials):
                await api.login("user@example.com", "wrong password")
        with pytest.raises(RateLimited) as refused:
            await api.login("user@example.com", PASSWORD)
    assert refused.value.retry_after is not None and refused.value.retry_after > 0


def _graphql_failure(extensions: dict[str, Any]) -> Any:
    return from_graphql_errors([{"message": "refused", "extensions": extensions}])


def test_sdk_reads_only_the_graphql_spelling_of_details() -> None:
    limited = _graphql_failure({"code": "RATE_LIMITED", "details": {"retryAfter": 7}})
    assert isinstance(limited, RateLimited) and limited.retry_after == 7
    snake = _graphql_failure({"code": "RATE_LIMITED", "details": {"retry_after": 7}})
    assert isinstance(snake, RateLimited) and snake.retry_after is None
    stale = _graphql_failure({"code": "VERSION_CONFLICT", "details": {"currentEtag": '"1-2"'}})
    assert isinstance(stale, VersionConflict) and stale.current_etag == '"1-2"'
    masked = _graphql_failure({"code": "INTERNAL_ERROR", "requestId": "r-1"})
    assert isinstance(masked, InternalError) and masked.request_id == "r-1"
    in_details = _graphql_failure({"code": "INTERNAL_ERROR", "details": {"request_id": "r-1"}})
    assert isinstance(in_details, InternalError) and in_details.request_id is None


def test_sdk_reads_a_rest_error_into_the_graphql_spelling() -> None:
    limited = from_rest_error(
        {"code": "RATE_LIMITED", "message": "m", "details": {"retry_after": 7, "limit": 1}}
    )
    assert isinstance(limited, RateLimited) and limited.retry_after == 7
    assert limited.details == {"retryAfter": 7, "limit": 1}
    stale = from_rest_error(
        {"code": "VERSION_CONFLICT", "message": "m", "details": {"current_etag": '"1-2"'}}
    )
    assert isinstance(stale, VersionConflict) and stale.current_etag == '"1-2"'
    masked = from_rest_error(
        {"code": "INTERNAL_ERROR", "message": "m", "details": {"request_id": "r-1"}}
    )
    assert isinstance(masked, InternalError) and masked.request_id == "r-1"
    invalid = from_rest_error(
        {"code": "VALIDATION_ERROR", "message": "m", "details": {"per_page": ["too big"]}}
    )
    assert isinstance(invalid, ValidationError) and invalid.details == {"per_page": ["too big"]}


async def test_limits_of_the_server_have_their_classes(
    settings: Settings, accounts: Accounts
) -> None:
    await accounts.user(ADMIN, role="admin")
    strict = create_app(settings.with_(graphql_max_cost=20, max_content_length=1500))
    async with strict.router.lifespan_context(strict), sdk_for(strict) as api:
        with pytest.raises(PayloadTooLarge):
            await api.login(ADMIN, "x" * 2000)
        await api.login(ADMIN, PASSWORD)
        with pytest.raises(QueryTooComplex):
            await api.list_users(per_page=100)


async def test_unexpected_failures_carry_the_request_id(
    admin: AsyncAPIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from resolvers import users

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(users, "list_users", broken)
    with pytest.raises(InternalError) as failed:
        await admin.list_users()
    assert failed.value.request_id and "secret" not in str(failed.value)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_network_failures_are_not_api_errors() -> None:
    async with AsyncAPIClient(f"http://127.0.0.1:{closed_port()}", timeout=2) as api:
        with pytest.raises(NetworkError) as failed:
            await api.health()
    assert not isinstance(failed.value, APIError)
    with (
        APIClient(f"http://127.0.0.1:{closed_port()}", timeout=2) as blocking,
        pytest.raises(NetworkError),
    ):
        blocking.login(ADMIN, PASSWORD)


# The blocking client and the example, against a real server


async def _create_admin(settings: Settings) -> None:
    from resolvers.accounts import create_account

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await create_account(
            app.state.services,
            name="Ada Admin",
            email=ADMIN,
            password=PASSWORD,
            role="admin",
            created_by=None,
        )


@pytest.fixture
def live_server(settings: Settings) -> Iterator[tuple[str, Starlette]]:
    """The app under uvicorn on a free loopback port, in a thread, with an admin account."""
    asyncio.run(_create_admin(settings))
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", app
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


def test_blocking_client_on_a_real_server(live_server: tuple[str, Starlette]) -> None:
    url, app = live_server
    with APIClient(url) as api:
        pair = api.login(ADMIN, PASSWORD)
        assert api.get_current_user()["role"] == "admin"
        created = api.create_user("Dee", "dee@example.com", PASSWORD)
        updated = api.update_user(created["id"], email="dee@example.org", if_match=created["etag"])
        with pytest.raises(VersionConflict) as stale:
            api.update_user(created["id"], name="x", if_match=created["etag"])
        assert stale.value.current_etag == updated["etag"]
        assert api.get_user(created["id"]) == updated
        assert [u["email"] for u in api.iter_users(per_page=1)] == [ADMIN, "dee@example.org"]
        assert api.list_users(sort="asc")["meta"]["total"] == 2

        app.state.services.clock = LaterClock(601)
        assert api.get_current_user()["email"] == ADMIN  # refreshed transparently
        assert api.refresh_token != pair["refresh_token"]

        api.delete_user(created["id"])
        assert api.get_user(created["id"]) is None
        job = api.export_users()
        assert api.get_export_job(job["job_id"])["job_id"] == job["job_id"]
        api.register("Eli", "eli@example.com", PASSWORD)
        api.logout_all()
        with pytest.raises(MissingAuthHeader):
            api.list_users()
        with pytest.raises(InvalidCredentials):
            api.login(ADMIN, "not the password")


def test_the_sdk_sends_a_stable_user_agent(live_server: tuple[str, Starlette]) -> None:
    url, _ = live_server
    with APIClient(url) as api:
        api.login(ADMIN, PASSWORD)
        tokens = (api.access_token, api.refresh_token)
    # Another process of the same application resumes the session: same address and agent.
    with APIClient(url, access_token=tokens[0], refresh_token=tokens[1]) as resumed:
        assert resumed.get_current_user()["email"] == ADMIN
    assert USER_AGENT.startswith("accounts-graphql-client/")


def test_example_script(live_server: tuple[str, Starlette]) -> None:
    url, _ = live_server
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo_client.py"), "--url", url],
        env={"ADMIN_EMAIL": ADMIN, "ADMIN_PASSWORD": PASSWORD, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert ADMIN in done.stdout and "1 user" in done.stdout
    failed = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo_client.py"), "--url", url],
        env={"ADMIN_EMAIL": ADMIN, "ADMIN_PASSWORD": "wrong password", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert failed.returncode == 1 and "INVALID_CREDENTIALS" in failed.stderr
