"""Retention: ended sessions are deleted once SESSION_RETENTION seconds have passed since they
ended; audit events once they are AUDIT_RETENTION_DAYS old."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from persistence import audit_events
from persistence import mfa as mfa_repo
from persistence import sessions as sessions_repo
from resolvers.deps import Services

BATCH = 1000  # rows per transaction: a backlog is deleted without one long lock

Purge = Callable[[AsyncSession], Awaitable[int]]


async def purge_ended_sessions(services: Services) -> int:
    """Delete the sessions that ended (expired or revoked) over SESSION_RETENTION seconds ago;
    how many. A refresh token of a deleted session is TOKEN_REVOKED, as it was before."""
    retention = timedelta(seconds=services.settings.session_retention)
    before = services.clock.now() - retention
    return await _in_batches(
        services, lambda session: sessions_repo.purge_ended(session, before=before, limit=BATCH)
    )


async def purge_old_audit_events(services: Services) -> int:
    """Delete the audit events older than AUDIT_RETENTION_DAYS (none when it is 0); how many."""
    days = services.settings.audit_retention_days
    if days <= 0:
        return 0
    before: datetime = services.clock.now() - timedelta(days=days)
    return await _in_batches(
        services, lambda session: audit_events.purge_before(session, before=before, limit=BATCH)
    )


async def _in_batches(services: Services, purge: Purge) -> int:
    """Run `purge` (up to BATCH rows) a transaction at a time until a batch comes up short."""
    purged = 0
    while True:
        async with services.db.transaction() as session:
            deleted = await purge(session)
        purged += deleted
        if deleted < BATCH:
            return purged


async def purge_ended_tickets(services: Services) -> int:
    """Delete expired MFA_REQUIRED tickets (a login issues one; the account's own spent and
    expired ones go when it issues the next, these are of accounts that did not come back)."""
    async with services.db.transaction() as session:
        return await mfa_repo.purge_tickets(session, before=services.clock.now())
