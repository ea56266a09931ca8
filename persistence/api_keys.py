"""The API key store: keys looked up by the keyed hash of their secret, revoked in place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from persistence.models import ApiKey, User, UTCDateTime
from persistence.views import VIEW_COLUMNS, UserView


@dataclass(frozen=True, slots=True)
class ApiKeyView:
    """A key as its owner sees it: never the secret, nor its hash."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None

    @classmethod
    def of(cls, row: ApiKey) -> ApiKeyView:
        return cls(row.id, row.name, row.prefix, row.created_at, row.last_used_at, row.expires_at)


async def add(session: AsyncSession, row: ApiKey) -> ApiKeyView:
    session.add(row)
    await session.flush()
    return ApiKeyView.of(row)


# Every condition of a usable key is in the WHERE clause, as for a session token
# (persistence.sessions): the answer is the owner and the key's id, or nothing.
_LIVE_KEY_USER = (
    select(*VIEW_COLUMNS, ApiKey.id)
    .join(ApiKey, ApiKey.user_id == User.id)
    .where(
        ApiKey.secret_hash == bindparam("secret_hash"),
        ApiKey.revoked_at.is_(None),
        or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > bindparam("now", type_=UTCDateTime())),
        User.deleted_at.is_(None),
        User.is_active.is_(True),
    )
)


async def live_key_user(
    connection: AsyncConnection, *, secret_hash: str, now: datetime
) -> tuple[UserView, int] | None:
    """The owner of a key that is live now, and the key's id, in one Core SELECT: None when the
    key is unknown, revoked or expired, or its owner deleted or deactivated."""
    found = await connection.execute(_LIVE_KEY_USER, {"secret_hash": secret_hash, "now": now})
    row = found.first()
    return None if row is None else (UserView(*row[:-1]), row[-1])


async def why_refused(connection: AsyncConnection, *, secret_hash: str, now: datetime) -> str:
    """Why `live_key_user` found nothing: `unknown`, `expired` or `revoked` (the key or its
    owner). Read only for a refused key, never on the way of an accepted one."""
    found = await connection.execute(
        select(ApiKey.revoked_at, ApiKey.expires_at, User.deleted_at, User.is_active)
        .join(User, User.id == ApiKey.user_id)
        .where(ApiKey.secret_hash == secret_hash)
    )
    row = found.first()
    if row is None:
        return "unknown"
    revoked_at, expires_at, deleted_at, is_active = row
    if revoked_at is not None or deleted_at is not None or not is_active:
        return "revoked"
    return "expired" if expires_at is not None and expires_at <= now else "revoked"


async def live_count(session: AsyncSession, user_id: int) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(ApiKey)
        .where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
    )
    return int(count or 0)


async def of_user(session: AsyncSession, user_id: int) -> list[ApiKeyView]:
    """A user's unrevoked keys (expired ones too, to be seen and cleared), newest first."""
    rows = await session.scalars(
        select(ApiKey)
        .where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
        .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    )
    return [ApiKeyView.of(row) for row in rows.all()]


async def revoke(session: AsyncSession, key_id: int, *, owner: int | None, now: datetime) -> bool:
    """Revoke an unrevoked key, of `owner` only unless None; False when there is none such."""
    where: list[ColumnElement[bool]] = [ApiKey.id == key_id, ApiKey.revoked_at.is_(None)]
    if owner is not None:
        where.append(ApiKey.user_id == owner)
    result = await session.execute(
        update(ApiKey)
        .where(*where)
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1
