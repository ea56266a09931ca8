"""The users repository: the reads and writes of single accounts, and the export's batches
(listings, their filters and orders: `persistence/user_listing.py`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from persistence import driver_sql
from persistence.models import User
from persistence.user_listing import AnySelect, Reader, filtered
from persistence.user_listing import UserQuery as UserQuery  # the filters exports take too
from persistence.views import VIEW_COLUMNS, UserView


async def get_many(reader: Reader, ids: Iterable[int]) -> dict[int, UserView]:
    """Users by id in one SELECT (dataloaders batch through this); deleted ones included."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    if isinstance(reader, AsyncConnection):  # a statement compiled once per batch size
        users = await driver_sql.many(reader, wanted)
    else:
        rows = await reader.execute(select(*VIEW_COLUMNS).where(User.id.in_(wanted)))
        users = [UserView(*row) for row in rows]
    return {user.id: user for user in users}


async def get_view(reader: Reader, user_id: int) -> UserView | None:
    """One live user for display; None when absent or deleted."""
    query = select(*VIEW_COLUMNS).where(User.id == user_id, User.deleted_at.is_(None))
    row = (await reader.execute(query)).first()
    return None if row is None else UserView(*row)


async def get(
    session: AsyncSession, user_id: int, *, include_deleted: bool = False, locked: bool = False
) -> User | None:
    """The row as the database holds it now. `populate_existing`: a session that already holds
    the row (an email check loaded it) would otherwise hand back its copy from before an
    `UPDATE` it just ran, and a write would answer the old version and ETag. `locked`: the row
    is locked until the transaction ends, and read as last committed (not from the snapshot)."""
    query = select(User).where(User.id == user_id).execution_options(populate_existing=True)
    if not include_deleted:
        query = query.where(User.deleted_at.is_(None))
    if locked:
        query = query.with_for_update()
    return (await session.scalars(query)).first()


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    """The account holding an email, deleted or not (a deleted user's email stays reserved)."""
    return (await session.scalars(select(User).where(User.email == email))).first()


async def count_admins(session: AsyncSession) -> int:
    rows: Sequence[int] = (
        await session.scalars(
            select(User.id).where(User.role == "admin", User.deleted_at.is_(None))
        )
    ).all()
    return len(rows)


_ACTIVE_ADMIN = (User.role == "admin", User.is_active.is_(True), User.deleted_at.is_(None))


async def lock_active_admins(session: AsyncSession) -> list[int]:
    """The ids of the active admins, their rows locked until the transaction ends.

    Found by a plain read, then locked by primary key in id order: concurrent callers queue on
    the first row instead of deadlocking, and only admin rows are locked, not every row a scan
    of the table would lock. (SQLite has no row locks; its one writer serialises the writes.)
    """
    found = (await session.scalars(select(User.id).where(*_ACTIVE_ADMIN))).all()
    return await active_admins_among(session, found) if found else []


async def active_admins_among(session: AsyncSession, ids: Sequence[int]) -> list[int]:
    """Which of `ids` are active admins as last committed (a locking read, whatever snapshot
    the transaction holds), in id order, their rows locked."""
    query = (
        select(User.id).where(User.id.in_(ids), *_ACTIVE_ADMIN).order_by(User.id).with_for_update()
    )
    return list((await session.scalars(query)).all())


async def set_password_hash(session: AsyncSession, user_id: int, password_hash: str) -> None:
    """A rehash on login: same password, new parameters; not a user-visible write."""
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(password_hash=password_hash)
        .execution_options(synchronize_session=False)
    )


async def bump_token_version(session: AsyncSession, user_id: int) -> None:
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(token_version=User.token_version + 1)
        .execution_options(synchronize_session=False)
    )


async def role_of(session: AsyncSession, user_id: int) -> str | None:
    """The role a live user holds, the row locked until the transaction ends (MySQL), so the
    role a change replaces is the one it replaced."""
    role: str | None = await session.scalar(
        select(User.role).where(User.id == user_id, User.deleted_at.is_(None)).with_for_update()
    )
    return role


async def update_versioned(
    session: AsyncSession, user_id: int, values: dict[str, Any], *, expected_version: int | None
) -> bool:
    """Write `values` and bump `version` in one statement, only if the version still matches."""
    statement = (
        update(User)
        .where(User.id == user_id, User.deleted_at.is_(None))
        .values(**values, version=User.version + 1)
        .execution_options(synchronize_session=False)
    )
    if expected_version is not None:
        statement = statement.where(User.version == expected_version)
    result = await session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


ExportRow = tuple[int, str, str, str, datetime, bool]


async def export_batch(
    session: AsyncSession, wanted: UserQuery, *, after_id: int, limit: int
) -> list[ExportRow]:
    """The next filtered users in id order after `after_id` (keyset: cost is per batch)."""
    columns: AnySelect = select(
        User.id, User.name, User.email, User.role, User.created_at, User.is_active
    )
    query = filtered(columns, wanted).where(User.id > after_id).order_by(User.id).limit(limit)
    return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in (await session.execute(query)).all()]
