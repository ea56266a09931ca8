"""The last active admin cannot be demoted, deactivated or deleted (contract section 6)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import AppError, ErrorCode
from persistence import users as users_repo


def removes_an_admin(values: Mapping[str, Any]) -> bool:
    """Whether writing `values` to an active admin's row would leave it no longer one."""
    role = values.get("role")
    return (
        (role is not None and role != "admin")
        or values.get("is_active") is False
        or values.get("deleted_at") is not None
    )


@asynccontextmanager
async def keeping_an_admin(
    session: AsyncSession, target: int, values: Mapping[str, Any]
) -> AsyncIterator[None]:
    """Around the write of `values` to user `target`, inside its transaction: LAST_ADMIN (and
    the transaction rolled back) when no active admin would be left.

    Two admins demoting each other at once must not both win. On MySQL the admin rows are
    locked before the write, so the second writer waits for the first to commit, then counts
    what it committed; on SQLite the count runs after the write, under the one writer's lock.
    """
    if not removes_an_admin(values):
        yield
        return
    admins = await users_repo.lock_active_admins(session)
    yield
    if target in admins and not await users_repo.active_admins_among(session, admins):
        raise AppError(ErrorCode.LAST_ADMIN)
