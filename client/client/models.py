"""What the SDK returns: plain dicts, typed as TypedDicts, in the legacy REST shapes (snake_case).

GraphQL answers in camelCase with upper-case enums and string ids; the legacy REST clients read
snake_case keys, lower-case roles and integer ids. These functions turn one into the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypedDict

Role = Literal["admin", "user"]
SortOrder = Literal["asc", "desc"]
SortField = Literal["id", "created_at", "name", "email"]
JobStatus = Literal["queued", "started", "finished", "failed"]


class UserFilterParams(TypedDict, total=False):
    """Which users: `name` and `email` match case-insensitive substrings."""

    name: str | None
    email: str | None
    role: Role | None
    include_deleted: bool


class ListParams(UserFilterParams, total=False):
    """The legacy `GET /users` query parameters."""

    page: int  # from 1
    per_page: int  # 1 to 100
    sort: SortOrder
    sort_by: SortField
    after: str  # a previous page's meta["next_cursor"] (instead of page)


class UserChanges(TypedDict, total=False):
    """Fields to change; a field left out is kept."""

    name: str
    email: str
    password: str
    role: Role
    is_active: bool


class User(TypedDict):
    id: int
    name: str
    email: str
    role: str  # "admin" or "user"
    is_active: bool
    version: int  # bumps on every write
    etag: str  # pass as `if_match` to update or delete only this version
    created_at: str  # ISO 8601 with a UTC offset
    updated_at: str
    deleted_at: str | None  # admins only
    created_by: int | None  # the id of the account that created this one
    email_verified: bool
    last_login_at: str | None
    mfa_enabled: bool  # a TOTP second factor guards this account's sign-in


class TotpEnrollment(TypedDict):
    secret: str  # base32, for apps that take it typed in
    otpauth_uri: str  # otpauth://totp/...: show it as a QR code


class Session(TypedDict):
    id: str
    created_at: str
    last_used_at: str | None  # moves at most once a minute
    expires_at: str
    ip_address: str | None  # as seen at login
    user_agent: str | None
    current: bool  # the session of this client's token


class ApiKey(TypedDict):
    id: str
    name: str
    prefix: str  # the secret's first characters (`agk_...`), to tell keys apart
    created_at: str
    last_used_at: str | None  # moves at most once a minute
    expires_at: str | None  # None: until revoked


class NewApiKey(TypedDict):
    api_key: ApiKey
    secret: str  # shown once: `APIClient(base_url, api_key=secret)`


class TokenPair(TypedDict):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int  # seconds the access token lives


class PageMeta(TypedDict):
    page: int | None  # None on a page asked for by cursor (`after`)
    per_page: int
    total: int
    pages: int
    sort: str
    sort_by: str
    has_next_page: bool
    has_previous_page: bool | None  # None on a page asked for by cursor
    next_cursor: str | None  # pass as `after` for the next page; None on the last


class UserPage(TypedDict):
    items: list[User]
    meta: PageMeta


class ExportJob(TypedDict):
    job_id: str
    status: str  # "queued", "started", "finished" or "failed"
    row_count: int | None
    download_url: str | None  # a path on the server, once finished
    error: str | None  # once failed
    created_at: str
    finished_at: str | None


class Health(TypedDict):
    status: str
    database: str
    cache: str
    queue: str


def user_from(data: dict[str, Any]) -> User:
    creator = data.get("createdBy")
    return User(
        id=int(data["id"]),
        name=data["name"],
        email=data["email"],
        role=str(data["role"]).lower(),
        is_active=data["isActive"],
        version=data["version"],
        etag=data["etag"],
        created_at=data["createdAt"],
        updated_at=data["updatedAt"],
        deleted_at=data.get("deletedAt"),
        created_by=int(creator["id"]) if creator else None,
        email_verified=bool(data.get("emailVerified", False)),
        last_login_at=data.get("lastLoginAt"),
        mfa_enabled=bool(data.get("mfaEnabled", False)),
    )


def sessions_from(data: list[dict[str, Any]]) -> list[Session]:
    return [
        Session(
            id=item["id"],
            created_at=item["createdAt"],
            last_used_at=item.get("lastUsedAt"),
            expires_at=item["expiresAt"],
            ip_address=item.get("ipAddress"),
            user_agent=item.get("userAgent"),
            current=item["current"],
        )
        for item in data
    ]


def api_key_from(data: dict[str, Any]) -> ApiKey:
    return ApiKey(
        id=data["id"],
        name=data["name"],
        prefix=data["prefix"],
        created_at=data["createdAt"],
        last_used_at=data.get("lastUsedAt"),
        expires_at=data.get("expiresAt"),
    )


def api_keys_from(data: list[dict[str, Any]]) -> list[ApiKey]:
    return [api_key_from(item) for item in data]


def new_api_key_from(data: dict[str, Any]) -> NewApiKey:
    return NewApiKey(api_key=api_key_from(data["apiKey"]), secret=data["secret"])


def tokens_from(data: dict[str, Any]) -> TokenPair:
    return TokenPair(
        access_token=data["accessToken"],
        refresh_token=data["refreshToken"],
        token_type=data["tokenType"],
        expires_in=data["expiresIn"],
    )


def page_from(data: dict[str, Any], *, sort: str, sort_by: str) -> UserPage:
    info = data["pageInfo"]
    meta = PageMeta(
        page=info.get("page"),
        per_page=info["perPage"],
        total=info["total"],
        pages=info["pages"],
        sort=sort,
        sort_by=sort_by,
        has_next_page=info["hasNextPage"],
        has_previous_page=info.get("hasPreviousPage"),
        next_cursor=info["endCursor"] if info["hasNextPage"] else None,
    )
    return UserPage(items=[user_from(item) for item in data["items"]], meta=meta)


def job_from(data: dict[str, Any]) -> ExportJob:
    return ExportJob(
        job_id=str(data["id"]),
        status=str(data["status"]).lower(),
        row_count=data.get("rowCount"),
        download_url=data.get("downloadUrl"),
        error=data.get("error"),
        created_at=data["createdAt"],
        finished_at=data.get("finishedAt"),
    )


def health_from(data: dict[str, Any]) -> Health:
    return Health(
        status=data["status"], database=data["database"], cache=data["cache"], queue=data["queue"]
    )


def checked(params: Mapping[str, Any], allowed: Any) -> None:
    """Refuse a misspelt keyword (`perpage=`) rather than silently ignoring it."""
    unknown = set(params) - (allowed.__required_keys__ | allowed.__optional_keys__)
    if unknown:
        raise TypeError(f"unexpected parameters: {', '.join(sorted(unknown))}")


def enum_value(value: str | None) -> str | None:
    """A legacy lower-case value ('desc', 'created_at', 'admin') as the GraphQL enum value."""
    return None if value is None else value.upper()


def user_filter(params: UserFilterParams) -> dict[str, Any]:
    return {
        "name": params.get("name"),
        "email": params.get("email"),
        "role": enum_value(params.get("role")),
        "includeDeleted": bool(params.get("include_deleted", False)),
    }


def account_input(*, name: str, email: str, password: str, role: str) -> dict[str, Any]:
    return {"name": name, "email": email, "password": password, "role": enum_value(role)}


def update_input(changes: UserChanges) -> dict[str, Any]:
    """Only the fields given (and not None): the others are not changed."""
    fields = {
        "name": changes.get("name"),
        "email": changes.get("email"),
        "password": changes.get("password"),
        "role": enum_value(changes.get("role")),
        "isActive": changes.get("is_active"),
    }
    return {key: value for key, value in fields.items() if value is not None}
