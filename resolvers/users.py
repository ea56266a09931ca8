"""The users use cases: read, list, create, update and soft-delete accounts (admins only)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import metrics, rbac
from core.errors import AppError, ErrorCode, Problems
from core.validation import check_email, check_name, check_password, normalise_email
from persistence import users as users_repo
from persistence.cache import USERS_NAMESPACE as CACHE_NAMESPACE
from persistence.models import User
from persistence.users import Position, UserQuery
from resolvers import cursors, email_verification
from resolvers.accounts import create_account
from resolvers.audit import security_event
from resolvers.auth import revoke_user_tokens
from resolvers.deps import Caller, Principal, Services
from resolvers.last_admin import keeping_an_admin

MAX_PER_PAGE = 100
SORT_FIELDS = ("id", "created_at", "name", "email")


@dataclass(frozen=True, slots=True)
class UserPage:
    """A page of a listing. Paged by number, `page` is known; paged by cursor (`after`) it is
    None until `locate_page` counts the rows before the cursor, which only a client asking for
    the page number pays for."""

    items: list[User]
    page: int | None
    per_page: int
    total: int
    has_next_page: bool
    end_cursor: str | None
    query: UserQuery = field(default_factory=UserQuery)
    after: Position | None = None

    @property
    def pages(self) -> int:
        return math.ceil(self.total / self.per_page) if self.total else 0

    @property
    def next_cursor(self) -> str | None:
        """Where the next page starts; None on the last page."""
        return self.end_cursor if self.has_next_page else None


@dataclass(frozen=True, slots=True)
class UserChanges:
    """The fields an admin may change; None leaves a field as it is."""

    name: str | None = None
    email: str | None = None
    password: str | None = None
    role: str | None = None
    is_active: bool | None = None


def require_admin(caller: Caller) -> Principal:
    principal = caller.require_principal()
    if not rbac.has_role(principal.role, "admin"):
        security_event(caller, "forbidden", action="admin")
        raise AppError(ErrorCode.FORBIDDEN, "Admin role required")
    return principal


def parse_user_id(raw: str | int) -> int:
    text = str(raw).strip()
    if not text.isdigit() or len(text) > 18:
        raise AppError(ErrorCode.VALIDATION_ERROR, "Invalid input", {"id": ["Not a valid id"]})
    return int(text)


STALE = -1  # a version no row has: the write fails with VERSION_CONFLICT


def parse_if_match(if_match: str | None, user_id: int) -> int | None:
    """The version an `If-Match` value allows for `user_id`: quoted or bare etag, `*` (any),
    or None (no condition). An etag of another user never matches."""
    if if_match is None or if_match.strip() == "*":
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    owner, _, version = value.rpartition("-")
    if not version.isdigit() or not owner.isdigit():
        raise AppError(
            ErrorCode.VALIDATION_ERROR,
            "Invalid input",
            {"ifMatch": ["Not an etag of this resource"]},
        )
    return int(version) if int(owner) == user_id else STALE


async def get_me(services: Services, caller: Caller) -> User:
    """The signed-in user's own account: the row authentication read, else the cache."""
    principal = caller.require_principal()
    if caller.user is not None and caller.user.id == principal.user_id:
        return caller.user
    user = await _cached_user(services, principal.user_id)
    if user is None:  # deleted between authentication and now
        raise AppError(ErrorCode.TOKEN_REVOKED)
    return user


async def get_user(services: Services, caller: Caller, *, user_id: str | int) -> User | None:
    """One live account by id; None when absent or deleted."""
    require_admin(caller)
    return await _cached_user(services, parse_user_id(user_id))


async def list_users(
    services: Services,
    caller: Caller,
    *,
    page: int = 1,
    per_page: int = 20,
    query: UserQuery | None = None,
    after: str | None = None,
) -> UserPage:
    """A page of accounts with filters and a stable order: by number (`page`), or the
    `per_page` accounts after a cursor (`after`, from a previous page's `end_cursor`), which
    costs the same at any depth."""
    require_admin(caller)
    query = query or UserQuery()
    problems = Problems()
    if page < 1:
        problems.add("page", "Must be 1 or more")
    if after is not None and page != 1:
        problems.add("page", "Give a page number or a cursor (after), not both")
    if not 1 <= per_page <= MAX_PER_PAGE:
        problems.add("perPage", f"Must be between 1 and {MAX_PER_PAGE}")
    if query.sort_by not in SORT_FIELDS:
        problems.add("sortBy", f"Must be one of {', '.join(SORT_FIELDS)}")
    problems.raise_if_any()
    position = None if after is None else cursors.decode(query, after)
    full_key, cached = await _cache_get(services, list_key(page, per_page, after, query))
    if cached is not None:
        items = [_user_from(item) for item in cached["items"]]
        total, more = cached["total"], cached["more"]
    else:
        async with services.db.reading() as connection:  # one snapshot for both
            total = await users_repo.count(connection, query)
            items = await users_repo.page(
                connection,
                query,
                offset=(page - 1) * per_page,
                limit=per_page + 1,  # one more tells whether a next page exists
                after=position,
            )
        more = len(items) > per_page
        del items[per_page:]
        if full_key is not None:  # the cache is on: the page is stored for the next reader
            value = {"items": [_user_data(u) for u in items], "total": total, "more": more}
            await _cache_set(services, full_key, value)
    return UserPage(
        items,
        page=None if position is not None else page,
        per_page=per_page,
        total=total,
        has_next_page=more,
        end_cursor=cursors.encode(query, items[-1]) if items else None,
        query=query,
        after=position,
    )


async def locate_page(services: Services, page: UserPage) -> int:
    """The page number of a page: known when paged by number; paged by cursor, the rows up to
    the cursor are counted (a cost that grows with the depth, paid only when asked)."""
    if page.page is not None or page.after is None:
        return page.page or 1
    async with services.db.reading() as connection:
        before = await users_repo.count_through(connection, page.query, page.after)
    return before // page.per_page + 1


async def create_user(
    services: Services,
    caller: Caller,
    *,
    name: str,
    email: str,
    password: str,
    role: str = "user",
    send_verification: bool = True,
) -> User:
    """An admin creates an account; `createdBy` records who. It is mailed a verification link
    unless the admin says otherwise."""
    principal = require_admin(caller)
    _check_role(role)
    user = await create_account(
        services, name=name, email=email, password=password, role=role, created_by=principal.user_id
    )
    if send_verification:
        await email_verification.send_verification(services, user)
    return user


async def update_user(
    services: Services,
    caller: Caller,
    *,
    user_id: str | int,
    changes: UserChanges,
    if_match: str | None = None,
) -> User:
    """Apply `changes` if `if_match` (when given) is current and an active admin remains;
    nothing is written otherwise."""
    require_admin(caller)
    target = parse_user_id(user_id)
    expected = parse_if_match(if_match, target)
    values = await _validated_values(services, changes)
    if values.keys() == {"updated_at"}:  # nothing to change: nothing is written
        return await _current(services, target, expected)
    try:
        async with (
            services.db.transaction() as session,
            keeping_an_admin(session, target, values),
        ):
            if "email" in values:
                holder = await users_repo.get_by_email(session, values["email"])
                if holder is not None and holder.id != target:
                    raise AppError(ErrorCode.EMAIL_EXISTS)
            if not await users_repo.update_versioned(
                session, target, values, expected_version=expected
            ):
                raise await _why_not_written(session, target)
            if values.keys() & {"password_hash", "role"} or values.get("is_active") is False:
                await revoke_user_tokens(services, session, target, reason="account-changed")
            user = await users_repo.get(session, target)
    except IntegrityError as exc:  # a concurrent write took the email
        raise AppError(ErrorCode.EMAIL_EXISTS) from exc
    await services.cache.bump(CACHE_NAMESPACE)
    assert user is not None
    return user


async def delete_user(
    services: Services, caller: Caller, *, user_id: str | int, if_match: str | None = None
) -> bool:
    """Soft delete: hidden everywhere, sessions revoked, the email stays reserved; never the
    last active admin."""
    require_admin(caller)
    target = parse_user_id(user_id)
    expected = parse_if_match(if_match, target)
    now = services.clock.now()
    values = {"deleted_at": now, "updated_at": now}
    async with services.db.transaction() as session, keeping_an_admin(session, target, values):
        if not await users_repo.update_versioned(
            session, target, values, expected_version=expected
        ):
            raise await _why_not_written(session, target)
        await revoke_user_tokens(services, session, target, reason="deleted")
    await services.cache.bump(CACHE_NAMESPACE)
    return True


async def _current(services: Services, user_id: int, expected: int | None) -> User:
    async with services.db.transaction() as session:
        user = await users_repo.get(session, user_id)
        if user is None or (expected is not None and user.version != expected):
            raise await _why_not_written(session, user_id)
    return user


async def _why_not_written(session: AsyncSession, user_id: int) -> AppError:
    current = await users_repo.get(session, user_id)
    if current is None:
        return AppError(ErrorCode.USER_NOT_FOUND)
    return AppError(
        ErrorCode.VERSION_CONFLICT,
        details={"current_etag": current.etag, "currentEtag": current.etag},
    )


async def _validated_values(services: Services, changes: UserChanges) -> dict[str, Any]:
    problems = Problems()
    values: dict[str, Any] = {}
    if changes.name is not None:
        check_name(problems, changes.name)
        values["name"] = changes.name.strip()
    if changes.email is not None:
        values["email"] = normalise_email(changes.email)
        check_email(problems, values["email"])
    if changes.password is not None:
        check_password(problems, services.hasher, changes.password)
    if changes.role is not None:
        if changes.role not in rbac.ROLES:
            problems.add("role", f"Must be one of {', '.join(rbac.ROLES)}")
        values["role"] = changes.role
    if changes.is_active is not None:
        values["is_active"] = changes.is_active
    problems.raise_if_any()
    if changes.password is not None:
        values["password_hash"] = await asyncio.to_thread(services.hasher.hash, changes.password)
    values["updated_at"] = services.clock.now()
    return values


def _check_role(role: str) -> None:
    if role not in rbac.ROLES:
        raise AppError(
            ErrorCode.VALIDATION_ERROR,
            "Invalid input",
            {"role": [f"Must be one of {', '.join(rbac.ROLES)}"]},
        )


# --- the cache: user rows as plain dicts under the users generation ---------------------------

_COLUMNS = (
    "id",
    "name",
    "email",
    "password_hash",
    "role",
    "is_active",
    "token_version",
    "version",
    "created_at",
    "updated_at",
    "deleted_at",
    "created_by",
    "email_verified",
    "last_login_at",
)
_DATES = ("created_at", "updated_at", "deleted_at", "last_login_at")
# Bumped whenever _COLUMNS changes: entries an older release cached (without the new columns)
# are then never read back.
_FORMAT = "v2"


def _user_data(user: User) -> dict[str, Any]:
    data = {column: getattr(user, column) for column in _COLUMNS if column != "password_hash"}
    for column in _DATES:
        data[column] = data[column].isoformat() if data[column] is not None else None
    return data


def _user_from(data: dict[str, Any]) -> User:
    """A detached row from its cached values (cached rows never carry the password hash)."""
    values = dict(data)
    for column in _DATES:
        values[column] = datetime.fromisoformat(data[column]) if data[column] else None
    return users_repo.detached(values)


def list_key(page: int, per_page: int, after: str | None, query: UserQuery) -> str:
    """The cache key of a users page (under the generation `_cache_get` prefixes)."""
    return f"list:{page}:{per_page}:{after}:{sorted(_as_dict(query).items())}"


def _as_dict(query: UserQuery) -> dict[str, Any]:
    return {f.name: getattr(query, f.name) for f in fields(query)}


async def _generation(services: Services) -> int | None:
    """The users cache's current generation, read before the database; None when the cache is
    off (`Settings.cache_enabled`: nothing a cached worker wrote is read either) or unreachable."""
    if not services.settings.cache_enabled:
        return None
    generation = await services.cache.generation(CACHE_NAMESPACE)
    return None if generation < 0 else generation


def _full_key(generation: int, key: str) -> str:
    return f"{CACHE_NAMESPACE}:{_FORMAT}:{generation}:{key}"


async def _cache_get(services: Services, key: str) -> tuple[str | None, Any | None]:
    """The full cache key under the current generation and its value; neither when the cache
    is off or down."""
    generation = await _generation(services)
    if generation is None:
        return None, None
    full_key = _full_key(generation, key)
    value = await services.cache.get(full_key)
    metrics.CACHE_LOOKUPS.labels("miss" if value is None else "hit").inc()
    return full_key, value


async def _cache_set(services: Services, full_key: str | None, value: Any) -> None:
    """Store under a key `_cache_get` gave (None: the cache is off or down, nothing to do)."""
    if full_key is not None:
        await services.cache.set(full_key, value, services.settings.cache_ttl)


async def users_by_id(services: Services, ids: Sequence[int]) -> list[User | None]:
    """Users by id for the `createdBy` loader, deleted ones included: live users from the cache
    in one MGET, the others in one SELECT (live ones are then cached)."""
    generation = await _generation(services)
    if generation is None:
        async with services.db.reading() as connection:
            found = await users_repo.get_many(connection, ids)
        return [found.get(user_id) for user_id in ids]
    keys = {user_id: _full_key(generation, f"user:{user_id}") for user_id in ids}
    cached = await services.cache.get_many(list(keys.values()))
    found = {
        user_id: _user_from(value) for user_id, value in zip(keys, cached, strict=True) if value
    }
    metrics.CACHE_LOOKUPS.labels("hit").inc(len(found))
    missing = [user_id for user_id in keys if user_id not in found]
    if missing:
        metrics.CACHE_LOOKUPS.labels("miss").inc(len(missing))
        async with services.db.reading() as connection:
            loaded = await users_repo.get_many(connection, missing)
        found.update(loaded)
        live = {keys[u.id]: _user_data(u) for u in loaded.values() if u.deleted_at is None}
        await services.cache.set_many(live, services.settings.cache_ttl)
    return [found.get(user_id) for user_id in ids]


async def _cached_user(services: Services, user_id: int) -> User | None:
    key, cached = await _cache_get(services, f"user:{user_id}")
    if cached is not None:
        return _user_from(cached)
    async with services.db.transaction() as session:
        user = await users_repo.get(session, user_id)
    if user is not None:
        await _cache_set(services, key, _user_data(user))
    return user
