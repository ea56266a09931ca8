"""The half of a client that does no I/O, shared by `APIClient` and `AsyncAPIClient`.

It knows where to send, which token signs a call, when an expired token is worth refreshing, and
how to read an answer or a failure. The two clients only differ in how they wait for the network.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from typing import Any, Generic, TypeVar

import httpx
from gql import GraphQLRequest
from gql.transport.exceptions import TransportError, TransportQueryError, TransportServerError
from graphql import GraphQLSchema, build_ast_schema, parse

from client.errors import (
    ExportError,
    MissingAuthHeader,
    NetworkError,
    SDKError,
    from_graphql_errors,
    from_rest_error,
)
from client.models import ExportJob, TokenPair, UserFilterParams, checked
from client.persisted import PersistedRequest

__version__ = "0.1.0"
USER_AGENT = f"accounts-graphql-client/{__version__}"
T = TypeVar("T")

# What the network can throw at a call before any GraphQL answer exists.
TRANSPORT_FAILURES = (TransportError, httpx.HTTPError, TimeoutError, OSError)


@functools.cache
def packaged_schema() -> GraphQLSchema:
    """The server's schema as shipped with this package; gql validates every document on it."""
    sdl = files("client").joinpath("schema.graphql").read_text(encoding="utf-8")
    return build_ast_schema(parse(sdl))


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One GraphQL operation to send: its document and variables, and how to read its field."""

    document: GraphQLRequest  # without variables (see operations.py)
    variables: Mapping[str, Any]
    field: str | None  # None: the whole `data` (execute)
    read: Callable[[Any], T]
    signed: bool = True  # send the access token, and refresh it once if it expired


class ClientCore:
    """Where to send, the token pair of this client, and how answers and failures read."""

    def __init__(
        self,
        base_url: str,
        *,
        user_agent: str | None,
        timeout: float,
        access_token: str | None,
        refresh_token: str | None,
        api_key: str | None = None,
        persisted_queries: bool = False,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.persisted_queries = persisted_queries
        self.graphql_url = f"{self.base_url}/graphql"
        self.timeout = timeout
        # Tokens are bound to the client's address and User-Agent: keep the agent stable.
        self.headers = {"User-Agent": user_agent or USER_AGENT}
        self.access_token = access_token
        self.refresh_token = refresh_token
        # Sent when no session token is held; never refreshed (a key does not expire that way).
        self.api_key = api_key

    def http_options(
        self, transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None
    ) -> dict[str, Any]:
        """Keyword arguments for the httpx client that gql's transport opens."""
        options: dict[str, Any] = {"headers": self.headers, "timeout": self.timeout}
        if transport is not None:
            options["transport"] = transport
        return options

    def request(self, call: Call[Any], *, in_full: bool = False) -> GraphQLRequest:
        """What to send for `call`: with persisted queries, its hash alone first (`in_full`
        once the server asked for the document), else the document."""
        variables = dict(call.variables)
        if not self.persisted_queries:
            return GraphQLRequest(call.document, variable_values=variables)
        return PersistedRequest(call.document, variable_values=variables, hash_only=not in_full)

    def auth_headers(self, signed: bool) -> dict[str, str]:
        credential = self.access_token or self.api_key
        if signed and credential:
            return {"Authorization": f"Bearer {credential}"}
        return {}

    def store(self, pair: TokenPair) -> TokenPair:
        self.access_token, self.refresh_token = pair["access_token"], pair["refresh_token"]
        return pair

    def forget(self) -> None:
        self.access_token = self.refresh_token = None

    def can_refresh(self, signed: bool) -> bool:
        return signed and self.refresh_token is not None

    def refresh_token_or_fail(self) -> str:
        if self.refresh_token is None:
            raise MissingAuthHeader("No refresh token: call login() first")
        return self.refresh_token

    def read(self, call: Call[T], data: Mapping[str, Any] | None) -> T:
        if call.field is None:
            return call.read(dict(data or {}))
        if data is None or call.field not in data:
            raise NetworkError(f"The answer has no {call.field!r} field")
        return call.read(data[call.field])

    def url(self, path: str) -> str:
        """An absolute URL for a server path such as an export's `download_url`."""
        return path if "://" in path else f"{self.base_url}/{path.lstrip('/')}"

    def download_target(self, path: str) -> tuple[str, dict[str, str]]:
        """The URL of a download and its headers. The access token goes only to the API's own
        origin (scheme, host and port): an absolute `download_url` elsewhere (a storage
        bucket's signed link, or a stranger's server a tampered answer points at) is fetched
        without it."""
        url = self.url(path)
        return url, self.auth_headers(origin(url) == origin(self.base_url))


def origin(url: str) -> tuple[str, str, int | None]:
    """The scheme, host and port of a URL, the default port spelled out."""
    parsed = httpx.URL(url)
    default = {"http": 80, "https": 443}.get(parsed.scheme)
    return parsed.scheme, parsed.host, parsed.port or default


class TokenHolder:
    """The public part both clients share: the token pair they keep, to save and to resume."""

    _core: ClientCore

    @property
    def access_token(self) -> str | None:
        return self._core.access_token

    @property
    def refresh_token(self) -> str | None:
        return self._core.refresh_token

    def set_tokens(self, access_token: str | None, refresh_token: str | None) -> None:
        """Resume a saved session (keep the same User-Agent: tokens are bound to it)."""
        self._core.access_token, self._core.refresh_token = access_token, refresh_token


def rest_filter(params: UserFilterParams) -> dict[str, str]:
    """A user filter as the legacy REST query parameters."""
    checked(params, UserFilterParams)
    query = {key: str(value) for key, value in params.items() if value is not None}
    if "include_deleted" in query:
        query["include_deleted"] = "true" if params.get("include_deleted") else "false"
    return query


def failure(exc: Exception) -> SDKError:
    """The SDK exception for what gql or httpx raised while sending a call."""
    if isinstance(exc, TransportQueryError):
        return from_graphql_errors(list(exc.errors or []))
    status = exc.code if isinstance(exc, TransportServerError) else None
    reason = str(exc) or type(exc).__name__
    return NetworkError(f"No GraphQL answer from the server: {reason}", status_code=status)


def read_download(response: httpx.Response) -> bytes:
    """The body of a successful REST download; the legacy error envelope otherwise."""
    if response.is_success:
        return response.content
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        error = None
    if not isinstance(error, Mapping):
        raise NetworkError(
            f"Download failed with HTTP {response.status_code}", status_code=response.status_code
        )
    raise from_rest_error(error)


def export_outcome(job: ExportJob, *, out_of_time: bool) -> ExportJob | None:
    """The finished job; None to poll again; ExportError when it failed or time is up."""
    if job["status"] == "finished":
        return job
    if job["status"] == "failed":
        raise ExportError(f"Export {job['job_id']} failed: {job['error']}", job=job)
    if out_of_time:
        raise ExportError(f"Export {job['job_id']} is still {job['status']}", job=job)
    return None
