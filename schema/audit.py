"""The audit log: `auditEvents` (newest first, keyset pages) and `exportAuditEvents` (CSV job)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import strawberry
from strawberry.scalars import JSON

from core import audit
from persistence.audit_events import AuditEventView
from resolvers import audit_events, exports
from schema.compiled.related import loads_related
from schema.context import Info
from schema.exports import ExportJobType
from schema.permissions import ADMIN, policy
from schema.users_types import UserType, related_user, related_user_by


@strawberry.type(name="AuditEvent", description="Who did what to whom, from where, when.")
class AuditEventType:
    id: strawberry.ID
    at: datetime
    action: str = strawberry.field(description="One of the audit actions (contract section 6).")
    ip_address: str | None
    user_agent: str | None
    request_id: str | None
    details: JSON | None
    actor_id: strawberry.Private[int | None]
    subject_id: strawberry.Private[int | None]

    @classmethod
    def of(cls, view: AuditEventView) -> AuditEventType:
        return cls(
            id=strawberry.ID(str(view.id)),
            at=view.at,
            action=view.action,
            ip_address=view.ip_address,
            user_agent=view.user_agent,
            request_id=view.request_id,
            details=None if view.details is None else orjson.loads(view.details),
            actor_id=view.actor_id,
            subject_id=view.subject_id,
        )

    @strawberry.field(description="Who did it; null: anonymous or the system.")
    @loads_related(related_user_by("actor_id"))
    async def actor(self, info: Info) -> UserType | None:
        return await related_user(info, self.actor_id)

    @strawberry.field(description="Whom it concerns.")
    @loads_related(related_user_by("subject_id"))
    async def subject(self, info: Info) -> UserType | None:
        return await related_user(info, self.subject_id)


@strawberry.type(name="AuditPage")
class AuditPageType:
    items: list[AuditEventType]
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")
    has_next_page: bool


@strawberry.input(name="AuditFilter", description="Every filter optional; since/until inclusive.")
class AuditFilterInput:
    action: str | None = None
    actor_id: strawberry.ID | None = None
    subject_id: strawberry.ID | None = None
    since: datetime | None = None
    until: datetime | None = None

    def to_filter(self) -> audit_events.AuditFilter:
        values: dict[str, Any] = {
            "action": self.action,
            "actor_id": None if self.actor_id is None else str(self.actor_id),
            "subject_id": None if self.subject_id is None else str(self.subject_id),
            "since": self.since,
            "until": self.until,
        }
        return audit_events.AuditFilter(**values)


@strawberry.type
class AuditEventsQuery:
    @strawberry.field(
        extensions=policy(ADMIN), description="Audit events, newest first (keyset pages)."
    )
    async def audit_events(
        self,
        info: Info,
        first: int | None = audit.DEFAULT_FIRST,
        after: str | None = strawberry.UNSET,
        filter: AuditFilterInput | None = strawberry.UNSET,
    ) -> AuditPageType:
        ctx = info.context
        page = await audit_events.list_audit_events(
            ctx.services,
            ctx.caller,
            first=audit.DEFAULT_FIRST if first is None else first,
            after=after or None,
            filter=filter.to_filter() if filter else None,
        )
        items = [AuditEventType.of(view) for view in page.items]
        return AuditPageType(
            items=items, end_cursor=page.end_cursor, has_next_page=page.has_next_page
        )


@strawberry.type
class AuditEventsMutation:
    @strawberry.mutation(
        extensions=policy(ADMIN),
        description="Start a CSV export of the audit events matching the filter (newest first).",
    )
    async def export_audit_events(
        self, info: Info, filter: AuditFilterInput | None = strawberry.UNSET
    ) -> ExportJobType:
        ctx = info.context
        raw = filter.to_filter() if filter else audit_events.AuditFilter()
        row = await exports.request_audit_export(ctx.services, ctx.caller, filter=raw)
        return ExportJobType.from_row(row)
