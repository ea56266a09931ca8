"""The audit_events table: one INSERT per event, keyset pages newest first, retention deletes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from persistence.models import AuditEvent

Reader = AsyncConnection | AsyncSession


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Which events: every filter optional; `since`/`until` bound `at`, both inclusive."""

    action: str | None = None
    actor_id: int | None = None
    subject_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditPosition:
    """The (at, id) of the event a keyset page follows."""

    at: datetime
    id: int


@dataclass(frozen=True, slots=True)
class AuditEventView:
    """An event as every read shows it."""

    id: int
    at: datetime
    action: str
    actor_id: int | None
    subject_id: int | None
    ip_address: str | None
    user_agent: str | None
    request_id: str | None
    details: str | None  # JSON text


COLUMNS = (
    AuditEvent.id,
    AuditEvent.at,
    AuditEvent.action,
    AuditEvent.actor_id,
    AuditEvent.subject_id,
    AuditEvent.ip_address,
    AuditEvent.user_agent,
    AuditEvent.request_id,
    AuditEvent.details,
)


async def add(session: AsyncSession, event: AuditEvent) -> None:
    """Inside the caller's transaction: committed, or rolled back, with the change it records."""
    session.add(event)
    await session.flush()


def filters(wanted: AuditQuery, after: AuditPosition | None = None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if wanted.action is not None:
        where.append(AuditEvent.action == wanted.action)
    if wanted.actor_id is not None:
        where.append(AuditEvent.actor_id == wanted.actor_id)
    if wanted.subject_id is not None:
        where.append(AuditEvent.subject_id == wanted.subject_id)
    if wanted.since is not None:
        where.append(AuditEvent.at >= wanted.since)
    if wanted.until is not None:
        where.append(AuditEvent.at <= wanted.until)
    if after is not None:  # a range on the (…, at, id) index, never an OFFSET
        where.append(
            or_(AuditEvent.at < after.at, and_(AuditEvent.at == after.at, AuditEvent.id < after.id))
        )
    return where


async def page(
    reader: Reader, wanted: AuditQuery, *, limit: int, after: AuditPosition | None = None
) -> list[AuditEventView]:
    """Up to `limit` matching events past `after`, newest first."""
    query: Any = (
        select(*COLUMNS)
        .where(*filters(wanted, after))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return [AuditEventView(*row) for row in await reader.execute(query)]


async def purge_before(session: AsyncSession, *, before: datetime, limit: int) -> int:
    """Delete up to `limit` events older than `before` (oldest first, on the `at` index); how
    many. The ids are read first: MySQL takes no LIMIT in a subquery of the table it deletes from."""
    ids = (
        await session.scalars(
            select(AuditEvent.id)
            .where(AuditEvent.at < before)
            .order_by(AuditEvent.at, AuditEvent.id)
            .limit(limit)
        )
    ).all()
    if ids:
        await session.execute(
            delete(AuditEvent)
            .where(AuditEvent.id.in_(ids))
            .execution_options(synchronize_session=False)
        )
    return len(ids)
