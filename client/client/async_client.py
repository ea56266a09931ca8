"""`AsyncAPIClient`: the asyncio twin of `APIClient`, method for method."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any, Self, TypeVar, Unpack

import httpx
from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.httpx import HTTPXAsyncTransport

from client import calls
from client.audit import AsyncAuditMethods
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
from client.lifecycle import AsyncAccountMethods
from client.mfa import AsyncMfaMethods
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


class AsyncAPIClient(AsyncAccountMethods, AsyncMfaMethods, AsyncAuditMethods, TokenHolder):
    """An asyncio client of the accounts API; see `APIClient` for the behaviour of each method.

        async with AsyncAPIClient("http://localhost:8000") as api:
            await api.login("admin@example.com", "secret123")
            print(await api.get_current_user())

    `transport`: any async httpx transport (`httpx.ASGITransport(app=app)`: an app in process).
    """

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
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
        self._transport = HTTPXAsyncTransport(
            url=self._core.graphql_url, **self._core.http_options(transport)
        )
        self._gql = Client(
            schema=packaged_schema(), transport=self._transport, execute_timeout=timeout
        )
        self._session: AsyncClientSession | None = None
        self._connect_lock = asyncio.Lock()
        self._refresh_lock = asyncio.Lock()

    async def __aenter__(self) -> Self:
        await self._connected()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._session is not None:
            self._session = None
            await self._gql.close_async()  # type: ignore[no-untyped-call]

    # Sessions

    async def register(self, name: str, email: str, password: str, role: Role = "user") -> User:
        return await self._run(calls.register(name, email, password, role))

    async def login(self, email: str, password: str) -> TokenPair:
        return self._core.store(await self._run(calls.login(email, password)))

    async def refresh(self) -> TokenPair:
        token = self._core.refresh_token_or_fail()
        return self._core.store(await self._run(calls.refresh(token)))

    async def logout(self) -> None:
        await self._run(calls.logout())
        self._core.forget()

    async def logout_all(self) -> None:
        await self._run(calls.logout_all())
        self._core.forget()

    # Users

    async def get_current_user(self) -> User:
        return await self._run(calls.me())

    async def get_user(self, id: int | str) -> User | None:  # `id`: the legacy name
        return await self._run(calls.get_user(id))

    async def list_users(self, **params: Unpack[ListParams]) -> UserPage:
        return await self._run(calls.list_users(params))

    async def iter_users(self, **params: Unpack[ListParams]) -> AsyncIterator[User]:
        listing = calls.walk_params(params)
        while True:
            page = await self.list_users(**listing)
            for user in page["items"]:
                yield user
            cursor = page["meta"]["next_cursor"]
            if cursor is None:
                return
            listing.pop("page", None)
            listing["after"] = cursor

    async def create_user(self, name: str, email: str, password: str, role: Role = "user") -> User:
        return await self._run(calls.create_user(name, email, password, role))

    async def update_user(
        self,
        id: int | str,  # `id`: the legacy name
        *,
        if_match: str | None = None,
        **fields: Unpack[UserChanges],
    ) -> User:
        return await self._run(calls.update_user(id, fields, if_match=if_match))

    async def delete_user(self, id: int | str, *, if_match: str | None = None) -> None:
        await self._run(calls.delete_user(id, if_match=if_match))

    # Exports

    async def export_users(
        self,
        *,
        wait: bool = False,
        timeout: float = 60.0,  # noqa: ASYNC109 - the same keyword as APIClient's
        poll_interval: float = 0.5,
        **filters: Unpack[UserFilterParams],
    ) -> ExportJob:
        job = await self._run(calls.export_users(filters))
        if not wait:
            return job
        return await self.wait_for_export(
            job["job_id"], timeout=timeout, poll_interval=poll_interval
        )

    async def get_export_job(self, job_id: str) -> ExportJob:
        return await self._run(calls.export_job(job_id))

    async def wait_for_export(
        self,
        job_id: str,
        *,
        timeout: float = 60.0,  # noqa: ASYNC109 - the same keyword as APIClient's
        poll_interval: float = 0.5,
    ) -> ExportJob:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            job = await self.get_export_job(job_id)
            finished = export_outcome(job, out_of_time=loop.time() >= deadline)
            if finished is not None:
                return finished
            await asyncio.sleep(poll_interval)

    async def download_export(self, job: ExportJob | str) -> bytes:
        return await self._download(calls.download_path(job))

    async def admin_export_users(self, **filters: Unpack[UserFilterParams]) -> bytes:
        return await self._download("/admin/users/export", rest_filter(filters))

    async def health(self) -> Health:
        return await self._run(calls.health())

    async def execute(
        self,
        document: str,
        variables: dict[str, Any] | None = None,
        *,
        operation_name: str | None = None,
    ) -> dict[str, Any]:
        """See `APIClient.execute`."""
        return await self._run(calls.execute(document, variables, operation_name))

    # Plumbing

    async def _run(self, call: Call[T]) -> T:
        return await self._signed(lambda: self._send(call), signed=call.signed)

    async def _signed(self, attempt: Callable[[], Awaitable[T]], *, signed: bool) -> T:
        """`attempt()`, and once more after a refresh if the access token had expired."""
        sent = self._core.access_token
        try:
            return await attempt()
        except TokenExpired:
            if not self._core.can_refresh(signed):
                raise
        async with self._refresh_lock:
            # Concurrent calls expire together; only the first refreshes (see APIClient).
            if self._core.access_token == sent:
                await self.refresh()
        return await attempt()

    async def _connected(self) -> AsyncClientSession:
        async with self._connect_lock:
            session = self._session
            if session is None:
                session = await self._gql.connect_async()  # type: ignore[no-untyped-call]
                self._session = session
            return session

    async def _send(self, call: Call[T]) -> T:
        """`call`, by hash first when persisted queries are on (client/persisted.py)."""
        try:
            return await self._post(call, self._core.request(call))
        except PersistedQueryNotSupported:
            self._core.persisted_queries = False
        except PersistedQueryNotFound:
            pass
        return await self._post(call, self._core.request(call, in_full=True))

    async def _post(self, call: Call[T], request: GraphQLRequest) -> T:
        headers = self._core.auth_headers(call.signed)
        session = await self._connected()
        try:
            data = await session.execute(request, extra_args={"headers": headers})
        except TRANSPORT_FAILURES as exc:
            raise failure(exc) from exc
        return self._core.read(call, data)

    async def _download(self, path: str, params: dict[str, Any] | None = None) -> bytes:
        async def attempt() -> bytes:
            await self._connected()
            http = self._transport.client
            assert http is not None, "the client is closed"
            try:
                url, headers = self._core.download_target(path)
                response = await http.get(url, params=params, headers=headers)
            except TRANSPORT_FAILURES as exc:
                raise failure(exc) from exc
            return read_download(response)

        return await self._signed(attempt, signed=True)
