"""The mail outbox table: mails asked for, claimed by one sender at a time, retried with backoff."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import OutgoingMail


async def add(session: AsyncSession, row: OutgoingMail) -> None:
    session.add(row)
    await session.flush()


async def claim(
    session: AsyncSession, mail_id: str, *, now: datetime, lease: timedelta
) -> OutgoingMail | None:
    """The mail, held for `lease`, if it is unsent and due; None when another sender holds it,
    it was sent, or it waits for its next try."""
    result = await session.execute(
        update(OutgoingMail)
        .where(
            OutgoingMail.id == mail_id,
            OutgoingMail.sent_at.is_(None),
            or_(OutgoingMail.not_before.is_(None), OutgoingMail.not_before <= now),
        )
        .values(not_before=now + lease)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    if result.rowcount != 1:
        return None
    found: OutgoingMail | None = await session.get(OutgoingMail, mail_id)
    return found


async def finish(
    session: AsyncSession, mail_id: str, *, now: datetime, error: str | None = None
) -> None:
    """Sent (or nothing to send: `error` says why)."""
    await session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.id == mail_id)
        .values(sent_at=now, attempts=OutgoingMail.attempts + 1, error=error)
        .execution_options(synchronize_session=False)
    )


async def retry_later(session: AsyncSession, mail_id: str, *, at: datetime, error: str) -> None:
    """Wait until `at`; the sweep queues it again then."""
    await session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.id == mail_id)
        .values(
            not_before=at, enqueued_at=None, attempts=OutgoingMail.attempts + 1, error=error[:200]
        )
        .execution_options(synchronize_session=False)
    )


async def due(
    session: AsyncSession, *, now: datetime, max_attempts: int, requeue_after: timedelta, limit: int
) -> list[str]:
    """Ids of unsent mails whose next try is due and that were not handed to the queue within
    `requeue_after` (a queue entry may wait for a worker that long), stamped as handed now."""
    rows = await session.scalars(
        select(OutgoingMail.id)
        .where(
            OutgoingMail.sent_at.is_(None),
            OutgoingMail.attempts < max_attempts,
            or_(OutgoingMail.not_before.is_(None), OutgoingMail.not_before <= now),
            or_(
                OutgoingMail.enqueued_at.is_(None),
                OutgoingMail.enqueued_at <= now - requeue_after,
            ),
        )
        .order_by(OutgoingMail.created_at)
        .limit(limit)
    )
    ids = list(rows.all())
    if ids:
        await session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.id.in_(ids))
            .values(enqueued_at=now)
            .execution_options(synchronize_session=False)
        )
    return ids
