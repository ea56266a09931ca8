"""`APIClient`: the blocking client, with the legacy SDK's methods and the new ones."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, Self, TypeVar, Unpack

import httpx
from gql import Client, GraphQLRequest
from gql.transport.httpx import HTTPXTransport

from client import calls
from client.audit import AuditMethods
from client.core import (
    TRANSPORT_FAILURES,
    Call,
    ClientCore,
    TokenHolder,
    export_outcome,
    failure,
    packaged_schema,
    read_download,
    rest_filter,
)
from client.errors import PersistedQueryNotFound, PersistedQueryNotSupported, TokenExpired
from client.lifecycle import AccountMethods
from client.mfa import MfaMethods
from client.models import (
    ExportJob,
    Health,
    ListParams,
    Role,
    TokenPair,
    User,
    UserChanges,
    UserFilterParams,
    UserPage,
)

T = TypeVar("T")


class APIClient(AccountMethods, MfaMethods, AuditMethods, TokenHolder):
    """A blocking client of the accounts API; it keeps the token pair of its last login.

        api = APIClient("http://localhost:8000")
        api.login("admin@example.com", "secret123")
        print(api.get_current_user())

    An access token that has expired is refreshed once, transparently, and the call retried.
    A machine client (a cron job, CI) signs in with an API key instead of a password:
    `APIClient(base_url, api_key="agk_...")` (keys are made with `create_api_key`).
    `transport` is any httpx transport (a mock, or one with proxies or retries). Close the client
    when done, or use it as a context manager.
    """

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
        user_agent: str | None = None,
        access_token: str | None = None,
        refresh_token: str | None = None,
        api_key: str | None = None,
        persisted_queries: bool = False,
    ) -> None:
        self._core = ClientCore(
            base_url,
            user_agent=user_agent,
            timeout=timeout,
            access_token=access_token,
            refresh_token=refresh_token,
            api_key=api_key,
            persisted_queries=persisted_queries,
        )
        self._transport = HTTPXTransport(
            url=self._core.graphql_url, **self._core.http_options(transport)
        )
        gql_client = Client(schema=packaged_schema(), transport=self._transport)
        self._gql = gql_client
        self._session = gql_client.connect_sync()  # type: ignore[no-untyped-call]
        self._refresh_lock = threading.Lock()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._gql.close_sync()  # type: ignore[no-untyped-call]

    # Sessions

    def register(self, name: str, email: str, password: str, role: Role = "user") -> User:
        """Sign up; the same email and password again replays the first answer."""
        return self._run(calls.register(name, email, password, role))

    def login(self, email: str, password: str) -> TokenPair:
        """Open a session and keep its tokens for the calls that follow."""
        return self._core.store(self._run(calls.login(email, password)))

    def refresh(self) -> TokenPair:
        """Rotate the kept token pair (the old refresh token stops working)."""
        return self._core.store(self._run(calls.refresh(self._core.refresh_token_or_fail())))

    def logout(self) -> None:
        """End this session and forget its tokens."""
        self._run(calls.logout())
        self._core.forget()

    def logout_all(self) -> None:
        """End every session of the signed-in user, on every device."""
        self._run(calls.logout_all())
        self._core.forget()

    # Users

    def get_current_user(self) -> User:
        return self._run(calls.me())

    def get_user(self, id: int | str) -> User | None:  # `id`: the legacy name
        """A live user (admins only); None when absent or deleted."""
        return self._run(calls.get_user(id))

    def list_users(self, **params: Unpack[ListParams]) -> UserPage:
        """One page (admins only): `{"items": [...], "meta": {page, per_page, total, ...}}`."""
        return self._run(calls.list_users(params))

    def iter_users(self, **params: Unpack[ListParams]) -> Iterator[User]:
        """Every matching user, page after page (by id, ascending, unless told otherwise)."""
        listing = calls.walk_params(params)
        while True:
            page = self.list_users(**listing)
            yield from page["items"]
            cursor = page["meta"]["next_cursor"]
            if cursor is None:
                return
            listing.pop("page", None)
            listing["after"] = cursor

    def create_user(self, name: str, email: str, password: str, role: Role = "user") -> User:
        return self._run(calls.create_user(name, email, password, role))

    def update_user(
        self,
        id: int | str,  # `id`: the legacy name
        *,
        if_match: str | None = None,
        **fields: Unpack[UserChanges],
    ) -> User:
        """Change some fields; with `if_match` (an etag) a stale copy raises VersionConflict."""
        return self._run(calls.update_user(id, fields, if_match=if_match))

    def delete_user(self, id: int | str, *, if_match: str | None = None) -> None:
        """Soft-delete a user."""
        self._run(calls.delete_user(id, if_match=if_match))

    # Exports

    def export_users(
        self,
        *,
        wait: bool = False,
        timeout: float = 60.0,
        poll_interval: float = 0.5,
        **filters: Unpack[UserFilterParams],
    ) -> ExportJob:
        """Start a CSV export job; with `wait`, poll until it finishes (ExportError otherwise)."""
        job = self._run(calls.export_users(filters))
        if not wait:
            return job
        return self.wait_for_export(job["job_id"], timeout=timeout, poll_interval=poll_interval)

    def get_export_job(self, job_id: str) -> ExportJob:
        return self._run(calls.export_job(job_id))

    def wait_for_export(
        self, job_id: str, *, timeout: float = 60.0, poll_interval: float = 0.5
    ) -> ExportJob:
        deadline = time.monotonic() + timeout
        while True:
            job = self.get_export_job(job_id)
            finished = export_outcome(job, out_of_time=time.monotonic() >= deadline)
            if finished is not None:
                return finished
            time.sleep(poll_interval)

    def download_export(self, job: ExportJob | str) -> bytes:
        """The CSV of a finished job (a job dict, or its id)."""
        return self._download(calls.download_path(job))

    def admin_export_users(self, **filters: Unpack[UserFilterParams]) -> bytes:
        """The CSV of the matching users, in one synchronous request."""
        return self._download("/admin/users/export", rest_filter(filters))

    def health(self) -> Health:
        return self._run(calls.health())

    def execute(
        self,
        document: str,
        variables: dict[str, Any] | None = None,
        *,
        operation_name: str | None = None,
    ) -> dict[str, Any]:
        """Run a document of your own (checked against the packaged schema first) and return
        its `data`; failures raise the same exceptions as every method, and an expired token
        is refreshed once. On a safelisted server, add the document to the manifest."""
        return self._run(calls.execute(document, variables, operation_name))

    # Plumbing

    def _run(self, call: Call[T]) -> T:
        return self._signed(lambda: self._send(call), signed=call.signed)

    def _signed(self, attempt: Callable[[], T], *, signed: bool) -> T:
        """`attempt()`, and once more after a refresh if the access token had expired."""
        sent = self._core.access_token
        try:
            return attempt()
        except TokenExpired:
            if not self._core.can_refresh(signed):
                raise
        with self._refresh_lock:
            # Another thread may have refreshed meanwhile; a second refresh of the same pair
            # would present a used refresh token, which the server treats as theft.
            if self._core.access_token == sent:
                self.refresh()
        return attempt()

    def _send(self, call: Call[T]) -> T:
        """`call`, by hash first when persisted queries are on (client/persisted.py)."""
        try:
            return self._post(call, self._core.request(call))
        except PersistedQueryNotSupported:
            self._core.persisted_queries = False
        except PersistedQueryNotFound:
            pass
        return self._post(call, self._core.request(call, in_full=True))

    def _post(self, call: Call[T], request: GraphQLRequest) -> T:
        headers = self._core.auth_headers(call.signed)
        try:
            data = self._session.execute(request, extra_args={"headers": headers})
        except TRANSPORT_FAILURES as exc:
            raise failure(exc) from exc
        return self._core.read(call, data)

    def _download(self, path: str, params: dict[str, Any] | None = None) -> bytes:
        def attempt() -> bytes:
            http = self._transport.client
            assert http is not None, "the client is closed"
            try:
                url, headers = self._core.download_target(path)
                response = http.get(url, params=params, headers=headers)
            except TRANSPORT_FAILURES as exc:
                raise failure(exc) from exc
            return read_download(response)

        return self._signed(attempt, signed=True)
