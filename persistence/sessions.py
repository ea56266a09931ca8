"""The auth session store: one row per login, rotated and revoked with conditional UPDATEs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, delete, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from persistence import driver_sql
from persistence.models import AuthSession, User, UTCDateTime
from persistence.views import UserView, packed_view, unpacked_view


async def open_session(session: AsyncSession, row: AuthSession) -> None:
    session.add(row)
    await session.flush()


async def record_login(session: AsyncSession, user_id: int, at: datetime) -> None:
    """`User.lastLoginAt`: not a user-visible write (no version bump, no cache invalidation)."""
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(last_login_at=at)
        .execution_options(synchronize_session=False)
    )


async def get_with_user(session: AsyncSession, session_id: str) -> tuple[AuthSession, User] | None:
    """The session and its user in one SELECT: what every authenticated request checks."""
    result = await session.execute(
        select(AuthSession, User)
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.id == session_id)
    )
    found = result.first()
    return None if found is None else (found[0], found[1])


# Every condition of a live session is in the WHERE clause, so the answer is the user or
# nothing, and only the user's columns cross the wire, packed in one: the driver parses a
# descriptor per result column on every query (four session columns cost ~4 % of a `me`
# request, thirteen user columns ~10 %).
_LIVE_SESSION_USER = (
    select(packed_view())
    .select_from(User)
    .join(AuthSession, AuthSession.user_id == User.id)
    .where(
        AuthSession.id == bindparam("session_id"),
        AuthSession.user_id == bindparam("user_id"),
        AuthSession.access_jti == bindparam("access_jti"),
        AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > bindparam("now", type_=UTCDateTime()),
        User.deleted_at.is_(None),
        User.is_active.is_(True),
        User.token_version == bindparam("token_version"),
    )
)


async def live_session_user(
    connection: AsyncConnection,
    *,
    session_id: str,
    user_id: int,
    access_jti: str,
    token_version: int,
    now: datetime,
) -> UserView | None:
    """The user of a session that is live for exactly this access token, in one Core SELECT:
    what every authenticated request checks. None when the session is unknown, revoked,
    expired or rotated past `access_jti`, or its user deleted, disabled or signed out
    everywhere since (another token version).

    Core rather than the ORM on purpose: this runs once per authenticated request, and a
    Session, its transaction and mapped entities cost twice the CPU of the statement.
    """
    found = await driver_sql.run(
        connection,
        _LIVE_SESSION_USER,
        {
            "session_id": session_id,
            "user_id": user_id,
            "access_jti": access_jti,
            "token_version": token_version,
            "now": now,
        },
    )
    packed = found.scalar()
    return None if packed is None else unpacked_view(packed)


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
        .values(
            access_jti=access_jti,
            refresh_jti=refresh_jti,
            previous_refresh_jti=used_refresh_jti,
            rotated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def revoke(session: AsyncSession, session_id: str, *, now: datetime, reason: str) -> None:
    await _revoke_where(session, AuthSession.id == session_id, now=now, reason=reason)


async def revoke_all(session: AsyncSession, user_id: int, *, now: datetime, reason: str) -> None:
    await _revoke_where(session, AuthSession.user_id == user_id, now=now, reason=reason)


async def revoke_others(
    session: AsyncSession, user_id: int, *, keep: str, now: datetime, reason: str
) -> None:
    """Revoke every live session of a user but `keep` (the caller's)."""
    await _revoke_where(
        session, AuthSession.user_id == user_id, AuthSession.id != keep, now=now, reason=reason
    )


async def revoke_own(
    session: AsyncSession, session_id: str, user_id: int, *, now: datetime, reason: str
) -> bool:
    """Revoke one live session of `user_id`; False when it is not theirs or not live."""
    ended = await _revoke_where(
        session,
        AuthSession.id == session_id,
        AuthSession.user_id == user_id,
        AuthSession.expires_at > now,
        now=now,
        reason=reason,
    )
    return ended == 1


async def _revoke_where(
    session: AsyncSession, *where: ColumnElement[bool], now: datetime, reason: str
) -> int:
    """Revoke the unrevoked sessions matching `where`; how many."""
    result = await session.execute(
        update(AuthSession)
        .where(*where, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount


async def purge_ended(session: AsyncSession, *, before: datetime, limit: int) -> int:
    """Delete up to `limit` sessions that expired or were revoked before `before`; how many.

    An ended session never comes back to life (nothing extends `expires_at` or clears
    `revoked_at`), so a row chosen here may be deleted whatever happens to it meanwhile. The ids
    are read first: MySQL takes no LIMIT in a subquery of the table it deletes from.
    """
    ended = or_(AuthSession.expires_at < before, AuthSession.revoked_at < before)
    ids = (await session.scalars(select(AuthSession.id).where(ended).limit(limit))).all()
    if ids:
        await session.execute(
            delete(AuthSession)
            .where(AuthSession.id.in_(ids))
            .execution_options(synchronize_session=False)
        )
    return len(ids)


async def live_of_user(session: AsyncSession, user_id: int, *, now: datetime) -> list[AuthSession]:
    """A user's live sessions, newest first."""
    rows = await session.scalars(
        select(AuthSession)
        .where(
            AuthSession.user_id == user_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
        )
        .order_by(AuthSession.created_at.desc(), AuthSession.id)
    )
    return list(rows.all())
