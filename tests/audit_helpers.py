"""Reading the audit log straight from the database, as a test checks what was written."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import select

from persistence.models import AuditEvent

EVENT_FIELDS = "{ id at action ipAddress userAgent requestId details actor { id } subject { id } }"
EVENTS = (
    "query($first: Int, $after: String, $filter: AuditFilter) "
    "{ auditEvents(first: $first, after: $after, filter: $filter) "
    f"{{ items {EVENT_FIELDS} endCursor hasNextPage }} }}"
)


async def stored_events(services: Any, action: str | None = None) -> list[AuditEvent]:
    """The events in the table, oldest first (optionally of one action)."""
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    async with services.db.transaction() as session:
        return list((await session.scalars(query)).all())


async def actions(services: Any) -> list[str]:
    return [event.action for event in await stored_events(services)]


def details(event: AuditEvent) -> Any:
    return None if event.details is None else orjson.loads(event.details)
