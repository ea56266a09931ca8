"""Writing the audit log: `record`, the one function every resolver calls, inside the
transaction it owns, so an event commits or rolls back with the change it records.

(`resolvers.audit` is the other record: a warning line per security event, for log search.)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import AuditAction, details_json
from persistence import audit_events
from persistence.models import AuditEvent
from resolvers.deps import Caller, Services


async def record(
    session: AsyncSession,
    caller: Caller | None,
    action: AuditAction,
    *,
    subject_id: int | None = None,
    details: Mapping[str, Any] | None = None,
    actor_id: int | None = None,
    at: datetime | None = None,
) -> None:
    """Add one event to `session`'s transaction: `caller` gives the actor (its principal, unless
    `actor_id` names another, e.g. the account a login signed in), the IP, the User-Agent and
    the request id; None is the system (CLI, start-up). `details` is JSON without secrets
    (`core.audit.details_json` refuses a key naming one); `at` defaults to now."""
    if actor_id is None and caller is not None and caller.principal is not None:
        actor_id = caller.principal.user_id
    event = AuditEvent(
        at=at or datetime.now(UTC),
        action=AuditAction(action).value,
        actor_id=actor_id,
        subject_id=subject_id,
        ip_address=caller.ip[:45] if caller is not None else None,
        user_agent=(caller.user_agent[:255] or None) if caller is not None else None,
        request_id=caller.request_id[:64] if caller is not None else None,
        details=details_json(details),
    )
    await audit_events.add(session, event)


async def record_alone(
    services: Services,
    caller: Caller | None,
    action: AuditAction,
    *,
    subject_id: int | None = None,
    details: Mapping[str, Any] | None = None,
    actor_id: int | None = None,
) -> None:
    """`record` in a short transaction of its own, for what changes nothing else (a failed
    sign-in, a download)."""
    async with services.db.transaction() as session:
        await record(
            session,
            caller,
            action,
            subject_id=subject_id,
            details=details,
            actor_id=actor_id,
            at=services.clock.now(),
        )


# The users columns an admin's change writes, as an event names them (never a value of these).
_FIELD_NAMES = {"password_hash": "password"}  # nosec B105: a column's name, never a value
_SHOWN_VALUES = ("name", "email", "is_active")


async def record_update(
    services: Services,
    session: AsyncSession,
    caller: Caller,
    user_id: int,
    values: Mapping[str, Any],
    role_before: str | None,
) -> None:
    """The events of an admin's write of `values` to a user: `user.role_changed` when the role
    moved, `user.updated` naming the other fields written (a new password by name only)."""
    now = services.clock.now()
    role = values.get("role")
    moved = role is not None and role != role_before
    if moved:
        await record(
            session,
            caller,
            AuditAction.USER_ROLE_CHANGED,
            subject_id=user_id,
            details={"from_role": role_before, "role": role},
            at=now,
        )
    written = set(values) - {"updated_at"} - ({"role"} if moved else set())
    if not written:
        return
    details: dict[str, Any] = {"fields": sorted(_FIELD_NAMES.get(f, f) for f in written)}
    details.update({key: values[key] for key in _SHOWN_VALUES if key in values})
    await record(
        session, caller, AuditAction.USER_UPDATED, subject_id=user_id, details=details, at=now
    )
