"""E-mailed tokens (reset, verification): issued, voided by a newer one, redeemed once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import AccountToken


async def issue(session: AsyncSession, row: AccountToken) -> None:
    """Store a new token; the user's older unused ones of the same purpose stop working."""
    await void(session, row.user_id, row.purpose, now=row.created_at)
    session.add(row)
    await session.flush()


async def void(session: AsyncSession, user_id: int, purpose: str, *, now: datetime) -> None:
    await session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user_id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )


async def redeem(
    session: AsyncSession, token_hash: str, purpose: str, *, now: datetime
) -> AccountToken | None:
    """The token, marked used, if it was live; None otherwise. A conditional UPDATE: of
    concurrent redeemers exactly one gets it."""
    result = await session.execute(
        update(AccountToken)
        .where(
            AccountToken.token_hash == token_hash,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    if result.rowcount != 1:
        return None
    found: AccountToken | None = await session.scalar(
        select(AccountToken).where(AccountToken.token_hash == token_hash)
    )
    return found
