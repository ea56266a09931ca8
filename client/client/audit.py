"""The audit log in the SDK (admins): pages newest first, every event, and its CSV export.

`AuditMethods` and `AsyncAuditMethods` hold the same methods for `APIClient` and
`AsyncAPIClient`; each page is one `Call` sent through the client's `_run`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Iterator
from datetime import datetime
from typing import Any, TypedDict, TypeVar, Unpack

from client import models
from client import operations as ops
from client.core import Call
from client.models import ExportJob

T = TypeVar("T")
# The server's bounds of `auditEvents(first:)` (its `core/audit.py`).
DEFAULT_FIRST = 50
MAX_FIRST = 100


class AuditFilterParams(TypedDict, total=False):
    """Which events; `since`/`until` (inclusive) as aware datetimes or ISO 8601 with an offset."""

    action: str  # e.g. "user.deleted"
    actor_id: int | str
    subject_id: int | str
    since: datetime | str
    until: datetime | str


class AuditEvent(TypedDict):
    id: int
    at: str  # ISO 8601 with a UTC offset
    action: str
    actor_id: int | None  # None: anonymous or the system
    subject_id: int | None
    ip_address: str | None
    user_agent: str | None
    request_id: str | None
    details: Any  # JSON, never a secret


class AuditPage(TypedDict):
    items: list[AuditEvent]
    next_cursor: str | None  # pass as `after` for the next page; None on the last


def _id(user: dict[str, Any] | None) -> int | None:
    return None if user is None else int(user["id"])


def event_from(data: dict[str, Any]) -> AuditEvent:
    return AuditEvent(
        id=int(data["id"]),
        at=data["at"],
        action=data["action"],
        actor_id=_id(data.get("actor")),
        subject_id=_id(data.get("subject")),
        ip_address=data.get("ipAddress"),
        user_agent=data.get("userAgent"),
        request_id=data.get("requestId"),
        details=data.get("details"),
    )


def page_from(data: dict[str, Any]) -> AuditPage:
    return AuditPage(
        items=[event_from(item) for item in data["items"]],
        next_cursor=data["endCursor"] if data["hasNextPage"] else None,
    )


def audit_filter(params: AuditFilterParams) -> dict[str, Any]:
    models.checked(params, AuditFilterParams)

    def text(value: Any) -> str | None:
        if value is None:
            return None
        return value.isoformat() if isinstance(value, datetime) else str(value)

    return {
        "action": params.get("action"),
        "actorId": text(params.get("actor_id")),
        "subjectId": text(params.get("subject_id")),
        "since": text(params.get("since")),
        "until": text(params.get("until")),
    }


def audit_events(first: int, after: str | None, params: AuditFilterParams) -> Call[AuditPage]:
    variables = {"first": first, "after": after, "filter": audit_filter(params)}
    return Call(ops.AUDIT_EVENTS, variables, "auditEvents", page_from)


def export_audit_events(params: AuditFilterParams) -> Call[ExportJob]:
    variables = {"filter": audit_filter(params)}
    return Call(ops.EXPORT_AUDIT_EVENTS, variables, "exportAuditEvents", models.job_from)


class AuditMethods:
    """The blocking client's audit methods (admins only)."""

    def _run(self, call: Call[T]) -> T:
        raise NotImplementedError

    def list_audit_events(
        self,
        *,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
        **filters: Unpack[AuditFilterParams],
    ) -> AuditPage:
        """One page, newest first: `{"items": [...], "next_cursor": ...}`."""
        return self._run(audit_events(first, after, filters))

    def iter_audit_events(self, **filters: Unpack[AuditFilterParams]) -> Iterator[AuditEvent]:
        """Every matching event, newest first, page after page (a cursor: fast at any depth)."""
        after = None
        while True:
            page = self.list_audit_events(first=MAX_FIRST, after=after, **filters)
            yield from page["items"]
            after = page["next_cursor"]
            if after is None:
                return

    def start_audit_export(self, **filters: Unpack[AuditFilterParams]) -> ExportJob:
        """Start a CSV export job of the matching events; follow it with `wait_for_export`
        and `download_export`, as a users export."""
        return self._run(export_audit_events(filters))


class AsyncAuditMethods:
    """The asyncio client's audit methods (the same as `AuditMethods`)."""

    def _run(self, call: Call[T]) -> Awaitable[T]:
        raise NotImplementedError

    async def list_audit_events(
        self,
        *,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
        **filters: Unpack[AuditFilterParams],
    ) -> AuditPage:
        return await self._run(audit_events(first, after, filters))

    async def iter_audit_events(
        self, **filters: Unpack[AuditFilterParams]
    ) -> AsyncIterator[AuditEvent]:
        after = None
        while True:
            page = await self.list_audit_events(first=MAX_FIRST, after=after, **filters)
            for event in page["items"]:
                yield event
            after = page["next_cursor"]
            if after is None:
                return

    async def start_audit_export(self, **filters: Unpack[AuditFilterParams]) -> ExportJob:
        return await self._run(export_audit_events(filters))
