"""The users use cases: read, list, create, update and soft-delete accounts (admins only)."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import paging
from core.audit import AuditAction
from core.errors import AppError, ErrorCode
from persistence import user_listing
from persistence import users as users_repo
from persistence.user_listing import Position, UserQuery
from persistence.views import UserView
from resolvers import cursors, email_verification
from resolvers.access import all_shown_to, forbid_api_key, require_admin, shown_to
from resolvers.accounts import create_account
from resolvers.audit_log import record, record_update
from resolvers.auth import revoke_user_tokens
from resolvers.deps import Caller, Services
from resolvers.last_admin import keeping_an_admin
from resolvers.user_inputs import (
    UserChanges,
    check_listing,
    check_role,
    parse_if_match,
    parse_user_id,
    validated_values,
)


@dataclass(slots=True)
class UserPage:
    """A page of a listing. Paged by number, `page` is known; paged by cursor (`after`) it is
    None until `locate_page` counts the rows before the cursor, which only a client asking for
    the page number pays for, once per page however many fields ask. `total` likewise: None
    until `page_total` counts a filtered listing for a client that asks (unfiltered, it is one
    small read of the live users count and always there)."""

    items: list[UserView]
    page: int | None
    per_page: int
    total: int | None
    has_next_page: bool
    end_cursor: str | None
    query: UserQuery = field(default_factory=UserQuery)
    after: Position | None = None
    _located: asyncio.Task[int] | None = field(default=None, init=False, repr=False)
    _counted: asyncio.Task[int] | None = field(default=None, init=False, repr=False)

    @property
    def pages(self) -> int:
        """Of a counted page (`list_users(counted=True)`, what REST asks)."""
        assert self.total is not None, "an uncounted page: use page_total"
        return pages_of(self.total, self.per_page)

    @property
    def next_cursor(self) -> str | None:
        """Where the next page starts; None on the last page."""
        return self.end_cursor if self.has_next_page else None


def pages_of(total: int, per_page: int) -> int:
    return math.ceil(total / per_page) if total else 0


async def get_me(services: Services, caller: Caller) -> UserView:
    """The signed-in user's own account: the row authentication read, else the cache."""
    principal = caller.require_principal()
    user = caller.user
    if user is None or user.id != principal.user_id:
        user = await services.users.user(principal.user_id)
    if user is None:  # deleted between authentication and now
        raise AppError(ErrorCode.TOKEN_REVOKED)
    return shown_to(caller, user)


async def get_user(services: Services, caller: Caller, *, user_id: str | int) -> UserView | None:
    """One live account by id; None when absent or deleted."""
    require_admin(caller)
    user = await services.users.user(parse_user_id(user_id))
    return None if user is None else shown_to(caller, user)


async def list_users(
    services: Services,
    caller: Caller,
    *,
    page: int = paging.FIRST_PAGE,
    per_page: int = paging.DEFAULT_PER_PAGE,
    query: UserQuery | None = None,
    after: str | None = None,
    counted: bool = True,
) -> UserPage:
    """A page of accounts with filters and a stable order: by number (`page`), or the
    `per_page` accounts after a cursor (`after`, from a previous page's `end_cursor`), which
    costs the same at any depth. Not `counted`, a filtered total is left to `page_total`."""
    require_admin(caller)
    query = query or UserQuery()
    check_listing(page, per_page, after, query)
    position = None if after is None else cursors.decode(query, after)
    rows = await services.users.page(
        query, page=page, per_page=per_page, after=after, position=position, counted=counted
    )
    return UserPage(
        all_shown_to(caller, rows.items),
        page=None if position is not None else page,
        per_page=per_page,
        total=rows.total,
        has_next_page=rows.more,
        end_cursor=cursors.encode(query, rows.items[-1]) if rows.items else None,
        query=query,
        after=position,
    )


async def locate_page(services: Services, page: UserPage) -> int:
    """The page number of a page: known when paged by number; paged by cursor, the rows up to
    the cursor are counted (a cost that grows with the depth, paid only when asked), once for
    the page however many ask at the same time (`page` and `hasPreviousPage`)."""
    if page.page is not None or page.after is None:
        return page.page or paging.FIRST_PAGE
    if page._located is None:
        page._located = asyncio.ensure_future(_count_to(services, page.query, page.after))
    return await page._located // page.per_page + 1


async def page_total(services: Services, page: UserPage) -> int:
    """The matching total of a page: counted with it, or counted now, once for the page
    however many fields ask at the same time (`total` and `pages`)."""
    if page.total is not None:
        return page.total
    if page._counted is None:
        page._counted = asyncio.ensure_future(services.users.total(page.query))
    return await page._counted


async def _count_to(services: Services, query: UserQuery, after: Position) -> int:
    async with services.db.reading() as connection:
        return await user_listing.count_through(connection, query, after)


async def create_user(
    services: Services,
    caller: Caller,
    *,
    name: str,
    email: str,
    password: str,
    role: str = "user",
    send_verification: bool = True,
) -> UserView:
    """An admin creates an account; `createdBy` records who. It is mailed a verification link
    unless the admin says otherwise."""
    principal = require_admin(caller)
    check_role(role)
    row = await create_account(
        services,
        name=name,
        email=email,
        password=password,
        role=role,
        created_by=principal.user_id,
        caller=caller,
    )
    if send_verification:
        await email_verification.send_verification(services, caller, row)
    return shown_to(caller, UserView.of(row))


async def update_user(
    services: Services,
    caller: Caller,
    *,
    user_id: str | int,
    changes: UserChanges,
    if_match: str | None = None,
) -> UserView:
    """Apply `changes` if `if_match` (when given) is current and an active admin remains;
    nothing is written otherwise."""
    require_admin(caller)
    if changes.password is not None or changes.email is not None:
        forbid_api_key(caller)  # else an admin's key could set its own account's password
    target = parse_user_id(user_id)
    expected = parse_if_match(if_match, target)
    values = await validated_values(services, changes)
    if values.keys() == {"updated_at"}:  # nothing to change: nothing is written
        return shown_to(caller, await _current(services, target, expected))
    try:
        async with (
            services.db.transaction() as session,
            keeping_an_admin(session, target, values),
        ):
            if "email" in values:
                holder = await users_repo.get_by_email(session, values["email"])
                if holder is not None and holder.id != target:
                    raise AppError(ErrorCode.EMAIL_EXISTS)
            role_before = await users_repo.role_of(session, target) if "role" in values else None
            if not await users_repo.update_versioned(
                session, target, values, expected_version=expected
            ):
                raise await _why_not_written(session, target)
            await record_update(services, session, caller, target, values, role_before)
            if values.keys() & {"password_hash", "role"} or values.get("is_active") is False:
                await revoke_user_tokens(services, session, target, reason="account-changed")
            user = await users_repo.get(session, target)
            assert user is not None
            answer = UserView.of(user)  # the row as committed, read inside its transaction
    except IntegrityError as exc:  # a concurrent write took the email
        raise AppError(ErrorCode.EMAIL_EXISTS) from exc
    await services.users.invalidate()
    return shown_to(caller, answer)


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
        await record(session, caller, AuditAction.USER_DELETED, subject_id=target, at=now)
    await services.users.invalidate()
    return True


async def _current(services: Services, user_id: int, expected: int | None) -> UserView:
    async with services.db.transaction() as session:
        user = await users_repo.get(session, user_id)
        if user is None or (expected is not None and user.version != expected):
            raise await _why_not_written(session, user_id)
        return UserView.of(user)


async def _why_not_written(session: AsyncSession, user_id: int) -> AppError:
    current = await users_repo.get(session, user_id)
    if current is None:
        return AppError(ErrorCode.USER_NOT_FOUND)
    return AppError(
        ErrorCode.VERSION_CONFLICT,
        details={"current_etag": current.etag},
    )
