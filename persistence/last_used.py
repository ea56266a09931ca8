"""`last_used_at` of a session or an API key: moved with one conditional UPDATE."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import ApiKey, AuthSession


async def touch(
    session: AsyncSession,
    model: type[AuthSession] | type[ApiKey],
    row_id: str | int,
    *,
    now: datetime,
    every: float,
) -> None:
    """Move the row's `last_used_at` to `now` unless it moved less than `every` seconds ago
    (another process may have written it: the condition keeps it to one write a minute)."""
    await session.execute(
        update(model)
        .where(
            model.id == row_id,
            or_(
                model.last_used_at.is_(None),
                model.last_used_at < now - timedelta(seconds=every),
            ),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
