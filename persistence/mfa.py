"""The second factor's state: TOTP factors, recovery codes and login tickets.

Every single-use thing is spent by a conditional UPDATE, so of concurrent callers (any worker,
any host) exactly one wins: a time step (`use_step`), a recovery code, a ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Update

from persistence.models import MfaTicket, RecoveryCode, TotpFactor, User


async def _changed(session: AsyncSession, statement: Update) -> bool:
    """Whether `statement` changed exactly one row."""
    result = await session.execute(statement.execution_options(synchronize_session=False))
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def factor_of(session: AsyncSession, user_id: int) -> TotpFactor | None:
    query = select(TotpFactor).where(TotpFactor.user_id == user_id)
    return (await session.scalars(query.execution_options(populate_existing=True))).first()


async def put_pending(session: AsyncSession, row: TotpFactor) -> None:
    """Store a new, unconfirmed factor in place of any unconfirmed one the user had (a
    confirmed one stays: the insert then fails rather than replace it)."""
    await session.execute(
        delete(TotpFactor).where(
            TotpFactor.user_id == row.user_id, TotpFactor.confirmed_at.is_(None)
        )
    )
    session.add(row)
    await session.flush()


async def confirm(session: AsyncSession, user_id: int, *, step: int, now: datetime) -> bool:
    """Turn the pending factor on, its confirming step used; False when none is pending."""
    return await _changed(
        session,
        update(TotpFactor)
        .where(TotpFactor.user_id == user_id, TotpFactor.confirmed_at.is_(None))
        .values(confirmed_at=now, last_step=step),
    )


async def use_step(session: AsyncSession, user_id: int, step: int) -> bool:
    """Spend time step `step` of a confirmed factor: False when it, or a later one, was
    already used (a replayed code, or an older one)."""
    fresh: ColumnElement[bool] = or_(TotpFactor.last_step.is_(None), TotpFactor.last_step < step)
    return await _changed(
        session,
        update(TotpFactor)
        .where(TotpFactor.user_id == user_id, TotpFactor.confirmed_at.is_not(None), fresh)
        .values(last_step=step),
    )


async def remove(session: AsyncSession, user_id: int) -> None:
    """Forget the user's factor and recovery codes."""
    await session.execute(delete(TotpFactor).where(TotpFactor.user_id == user_id))
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))


async def set_enabled(session: AsyncSession, user_id: int, enabled: bool, now: datetime) -> None:
    """`User.mfaEnabled`, a versioned write (its ETag changes, caches drop it)."""
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(mfa_enabled=enabled, version=User.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )


async def replace_recovery_codes(
    session: AsyncSession, user_id: int, code_hashes: Sequence[str], now: datetime
) -> None:
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    session.add_all(
        RecoveryCode(user_id=user_id, code_hash=code_hash, created_at=now)
        for code_hash in code_hashes
    )
    await session.flush()


async def redeem_recovery_code(
    session: AsyncSession, user_id: int, code_hash: str, now: datetime
) -> bool:
    return await _changed(
        session,
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hash == code_hash,
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now),
    )


async def issue_ticket(session: AsyncSession, row: MfaTicket) -> None:
    """Store a ticket; the user's spent and expired ones are deleted on the way (so the table
    holds at most the tickets of the last few minutes)."""
    await session.execute(
        delete(MfaTicket).where(
            MfaTicket.user_id == row.user_id,
            or_(MfaTicket.used_at.is_not(None), MfaTicket.expires_at <= row.created_at),
        )
    )
    session.add(row)
    await session.flush()


async def live_ticket(session: AsyncSession, ticket_hash: str, now: datetime) -> MfaTicket | None:
    query = select(MfaTicket).where(
        MfaTicket.ticket_hash == ticket_hash,
        MfaTicket.used_at.is_(None),
        MfaTicket.expires_at > now,
    )
    return (await session.scalars(query)).first()


async def use_ticket(session: AsyncSession, ticket_hash: str, now: datetime) -> bool:
    """Spend a live ticket; False when it was used (by a concurrent caller too) or expired."""
    return await _changed(
        session,
        update(MfaTicket)
        .where(
            MfaTicket.ticket_hash == ticket_hash,
            MfaTicket.used_at.is_(None),
            MfaTicket.expires_at > now,
        )
        .values(used_at=now),
    )


async def purge_tickets(session: AsyncSession, *, before: datetime) -> int:
    """Delete the tickets that expired before `before` (used or not); how many."""
    result = await session.execute(
        delete(MfaTicket)
        .where(MfaTicket.expires_at < before)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount
