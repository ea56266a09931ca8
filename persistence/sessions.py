"""The auth session store: one row per login, rotated and revoked with conditional UPDATEs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from persistence import users as users_repo
from persistence.models import AuthSession, User


async def open_session(session: AsyncSession, row: AuthSession) -> None:
    session.add(row)
    await session.flush()


async def get_with_user(session: AsyncSession, session_id: str) -> tuple[AuthSession, User] | None:
    """The session and its user in one SELECT: what every authenticated request checks."""
    result = await session.execute(
        select(AuthSession, User)
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.id == session_id)
    )
    found = result.first()
    return None if found is None else (found[0], found[1])


@dataclass(frozen=True, slots=True)
class AccessCheck:
    """What the token check needs of a session, and its user (a detached row, no hash)."""

    user_id: int
    access_jti: str
    expires_at: datetime
    revoked_at: datetime | None
    user: User


_ACCESS_CHECK = (
    select(
        AuthSession.user_id,
        AuthSession.access_jti,
        AuthSession.expires_at,
        AuthSession.revoked_at,
        *users_repo.PUBLIC_COLUMNS,
    )
    .join(User, User.id == AuthSession.user_id)
    .where(AuthSession.id == bindparam("session_id"))
)


async def access_check(connection: AsyncConnection, session_id: str) -> AccessCheck | None:
    """The session and its user in one Core SELECT: what every authenticated request checks.

    Core rather than the ORM on purpose: this runs once per authenticated request, and a
    Session, its transaction and two mapped entities cost twice the CPU of the statement.
    """
    found = (await connection.execute(_ACCESS_CHECK, {"session_id": session_id})).first()
    if found is None:
        return None
    values = found._asdict()
    return AccessCheck(
        user_id=values.pop("user_id"),
        access_jti=values.pop("access_jti"),
        expires_at=values.pop("expires_at"),
        revoked_at=values.pop("revoked_at"),
        user=users_repo.detached(values),
    )


async def rotate(
    session: AsyncSession,
    *,
    session_id: str,
    used_refresh_jti: str,
    access_jti: str,
    refresh_jti: str,
    now: datetime,
) -> bool:
    """Swap in new token ids if `used_refresh_jti` is still current; exactly one caller wins."""
    result = await session.execute(
        update(AuthSession)
        .where(
            AuthSession.id == session_id,
            AuthSession.refresh_jti == used_refresh_jti,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
        )
        .values(access_jti=access_jti, refresh_jti=refresh_jti, rotated_at=now)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def revoke(session: AsyncSession, session_id: str, *, now: datetime, reason: str) -> None:
    await session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .execution_options(synchronize_session=False)
    )


async def revoke_all(session: AsyncSession, user_id: int, *, now: datetime, reason: str) -> None:
    await session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .execution_options(synchronize_session=False)
    )
