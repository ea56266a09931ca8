"""Reading the audit log (admins): keyset pages newest first, filters, and its CSV rows.

A cursor is URL-safe base64 of `[at, id]` of the last event of a page: not signed (it grants
nothing, it only says where a page starts), checked like any input; a forged or garbled one is a
VALIDATION_ERROR on `after`. One cursor serves any filter: it is a place in the one order.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from core import audit, csv_export, paging
from core.errors import Problems, validation_error
from persistence import audit_events
from persistence.audit_events import AuditEventView, AuditPosition, AuditQuery
from resolvers.access import require_admin
from resolvers.deps import Caller, Services

MAX_CURSOR_LENGTH = 200
CSV_BATCH = 2000


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """The filters as a client sends them (ids as strings); `check_filter` validates them."""

    action: str | None = None
    actor_id: str | None = None
    subject_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditPage:
    items: list[AuditEventView]
    end_cursor: str | None  # the last item's place (None on an empty page)
    has_next_page: bool


async def list_audit_events(
    services: Services,
    caller: Caller,
    *,
    first: int = audit.DEFAULT_FIRST,
    after: str | None = None,
    filter: AuditFilter | None = None,
) -> AuditPage:
    """The `first` matching events after the cursor `after`, newest first: a range seek on an
    index, as cheap a million events deep as on the first page."""
    require_admin(caller)
    problems = Problems()
    if message := paging.bound_message(first, 1, audit.MAX_FIRST):
        problems.add("first", message)
    query = check_filter(filter or AuditFilter(), problems)
    problems.raise_if_any()
    position = None if after is None else decode_cursor(after)
    async with services.db.reading() as connection:
        rows = await audit_events.page(connection, query, limit=first + 1, after=position)
    items = rows[:first]
    return AuditPage(items, encode_cursor(items[-1]) if items else None, len(rows) > first)


def check_filter(raw: AuditFilter, problems: Problems | None = None) -> AuditQuery:
    """The query a filter asks for; its problems (GraphQL names) are added to `problems`, or
    raised as one VALIDATION_ERROR when none is given."""
    own = problems is None
    problems = Problems() if problems is None else problems
    if raw.action is not None and raw.action not in audit.ACTIONS:
        problems.add("action", "Not an audit action: " + ", ".join(audit.ACTIONS))
    for name, moment in (("since", raw.since), ("until", raw.until)):
        if moment is not None and moment.tzinfo is None:
            problems.add(name, "Give a UTC offset (ISO 8601, e.g. 2026-01-31T12:00:00+00:00)")
    since, until = _utc(raw.since), _utc(raw.until)
    if since is not None and until is not None and since > until:
        problems.add("until", "Must not be before since")
    query = AuditQuery(
        action=raw.action,
        actor_id=_id(problems, "actorId", raw.actor_id),
        subject_id=_id(problems, "subjectId", raw.subject_id),
        since=since,
        until=until,
    )
    if own:
        problems.raise_if_any()
    return query


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is None:
        return None
    return moment.astimezone(UTC)


def _id(problems: Problems, field: str, raw: str | None) -> int | None:
    if raw is None:
        return None
    text = raw.strip()
    if not text.isdigit() or len(text) > 18:
        problems.add(field, "Not a valid id")
        return None
    return int(text)


def encode_cursor(event: AuditEventView) -> str:
    raw = orjson.dumps([event.at.astimezone(UTC).isoformat(), event.id])
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> AuditPosition:
    """The place `cursor` names, or VALIDATION_ERROR on `after`."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, event_id = orjson.loads(raw)
        moment = datetime.fromisoformat(at)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise validation_error({"after": ["Not a cursor of the audit log"]}) from None
    if moment.tzinfo is None or type(event_id) is not int or not 0 < event_id < 2**63:
        raise validation_error({"after": ["Not a cursor of the audit log"]})
    return AuditPosition(moment.astimezone(UTC), event_id)


# --- The CSV of the filtered events (an export job's rows) -------------------------------------

HEADER = (
    "id",
    "at",
    "action",
    "actor_id",
    "subject_id",
    "ip_address",
    "user_agent",
    "request_id",
    "details",
)


def csv_row(event: AuditEventView) -> tuple[str, ...]:
    """One event as CSV cells; the free-text ones neutralised for spreadsheets."""
    return (
        str(event.id),
        event.at.isoformat(),
        event.action,
        "" if event.actor_id is None else str(event.actor_id),
        "" if event.subject_id is None else str(event.subject_id),
        event.ip_address or "",
        csv_export.neutralise(event.user_agent or ""),
        csv_export.neutralise(event.request_id or ""),
        csv_export.neutralise(event.details or ""),
    )


async def csv_batches(
    services: Services, query: AuditQuery
) -> AsyncIterator[list[tuple[str, ...]]]:
    """CSV rows of the matching events, newest first, one short read per batch."""
    after: AuditPosition | None = None
    while True:
        async with services.db.reading() as connection:
            batch = await audit_events.page(connection, query, limit=CSV_BATCH, after=after)
        if not batch:
            return
        yield [csv_row(event) for event in batch]
        after = AuditPosition(batch[-1].at, batch[-1].id)


def query_json(query: AuditQuery) -> dict[str, object]:
    """A query as an export job keeps it (and its `export.requested` event shows it)."""
    return {
        "action": query.action,
        "actor_id": query.actor_id,
        "subject_id": query.subject_id,
        "since": None if query.since is None else query.since.isoformat(),
        "until": None if query.until is None else query.until.isoformat(),
    }


def query_of(stored: dict[str, object]) -> AuditQuery:
    def moment(value: object) -> datetime | None:
        return None if value is None else datetime.fromisoformat(str(value))

    def number(value: object) -> int | None:
        return None if value is None else int(str(value))

    return AuditQuery(
        action=None if stored.get("action") is None else str(stored["action"]),
        actor_id=number(stored.get("actor_id")),
        subject_id=number(stored.get("subject_id")),
        since=moment(stored.get("since")),
        until=moment(stored.get("until")),
    )
