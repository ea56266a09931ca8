"""What each legacy route accepts: one declarative spec per body or query string."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import ClassVar, TypedDict

from core import paging
from core.audit import ACTIONS
from core.errors import Problems
from core.rbac import ROLES
from persistence.user_listing import UserQuery
from resolvers.audit_events import AuditFilter
from resolvers.user_inputs import UserChanges
from server.rest.fields import spec_field

# Fields of the user resource that only the server writes.
READ_ONLY: Mapping[str, str] = {
    name: "Read-only field"
    for name in (
        "id",
        "version",
        "etag",
        "created_at",
        "updated_at",
        "deleted_at",
        "created_by",
        "token_version",
        "password_hash",
    )
}


class NewAccount(TypedDict):
    """The keyword arguments of `register` and `create_user`."""

    name: str
    email: str
    password: str
    role: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NewAccountBody:
    """POST /auth/register and POST /users."""

    REFUSED: ClassVar[Mapping[str, str]] = READ_ONLY
    name: str
    email: str
    password: str
    role: str = spec_field("user", choices=ROLES)

    def account(self) -> NewAccount:
        return NewAccount(name=self.name, email=self.email, password=self.password, role=self.role)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginBody:
    email: str
    password: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RefreshBody:
    refresh_token: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MfaVerifyBody:
    """POST /auth/mfa/verify: the ticket a login answered MFA_REQUIRED with, and a code."""

    mfa_token: str = spec_field(description="`error.details.mfa_token` of the login's 401")
    code: str = spec_field(description="A TOTP code (6 digits) or a recovery code")


@dataclass(frozen=True, slots=True, kw_only=True)
class PatchUserBody:
    """PUT and PATCH /users/{id}: any subset of the writable fields; the others stay as they
    are (the legacy `UpdateUserSchema` required none, so PUT does not either)."""

    REFUSED: ClassVar[Mapping[str, str]] = READ_ONLY
    name: str | None = None
    email: str | None = None
    password: str | None = None
    role: str | None = spec_field(None, choices=ROLES)
    is_active: bool | None = None

    def changes(self) -> UserChanges:
        return UserChanges(
            name=self.name,
            email=self.email,
            password=self.password,
            role=self.role,
            is_active=self.is_active,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class UserFilter:
    """Which users: the filters of GET /users, and all that the CSV exports take."""

    name: str | None = spec_field(None, description="Case-insensitive substring")
    email: str | None = spec_field(None, description="Case-insensitive substring")
    role: str | None = spec_field(None, choices=ROLES)
    include_deleted: bool = False

    def to_query(self) -> UserQuery:
        return UserQuery(
            name=self.name, email=self.email, role=self.role, include_deleted=self.include_deleted
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ListUsersQuery(UserFilter):
    """GET /users: the filters, a page and an order."""

    page: int = spec_field(paging.FIRST_PAGE, minimum=paging.FIRST_PAGE)
    per_page: int = spec_field(
        paging.DEFAULT_PER_PAGE, minimum=paging.MIN_PER_PAGE, maximum=paging.MAX_PER_PAGE
    )
    sort: str = spec_field(paging.DEFAULT_SORT, choices=("asc", "desc"))
    sort_by: str = spec_field(paging.DEFAULT_SORT_BY, choices=paging.SORT_FIELDS)
    after: str | None = spec_field(
        None,
        description="A previous page's `meta.next_cursor`: the `per_page` users after it, as "
        "fast at any depth (instead of `page`; `meta.page` is then null)",
    )

    def to_query(self) -> UserQuery:
        # Named, not `super()`: a slotted dataclass is a new class the zero-argument form misses.
        filters = UserFilter.to_query(self)
        return replace(filters, sort_by=self.sort_by, descending=self.sort == "desc")


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditFilterSpec:
    """POST /admin/audit-events/export: which events (all optional; `since`/`until` inclusive,
    ISO 8601 with a UTC offset)."""

    action: str | None = spec_field(None, choices=ACTIONS)
    actor_id: int | None = spec_field(None, minimum=1)
    subject_id: int | None = spec_field(None, minimum=1)
    since: str | None = spec_field(None, description="ISO 8601 with a UTC offset")
    until: str | None = spec_field(None, description="ISO 8601 with a UTC offset")

    def to_filter(self) -> AuditFilter:
        problems = Problems()
        since, until = (
            _moment(problems, "since", self.since),
            _moment(problems, "until", self.until),
        )
        problems.raise_if_any()
        return AuditFilter(
            action=self.action,
            actor_id=None if self.actor_id is None else str(self.actor_id),
            subject_id=None if self.subject_id is None else str(self.subject_id),
            since=since,
            until=until,
        )


def _moment(problems: Problems, name: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        problems.add(name, "Not an ISO 8601 date-time")
        return None
