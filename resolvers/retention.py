"""Retention of ended sessions: expired and revoked sessions are deleted once
SESSION_RETENTION seconds have passed since they ended."""

from __future__ import annotations

from datetime import timedelta

from persistence import mfa as mfa_repo
from persistence import sessions as sessions_repo
from resolvers.deps import Services

BATCH = 1000  # rows per transaction: a backlog is deleted without one long lock


async def purge_ended_sessions(services: Services) -> int:
    """Delete the sessions that ended (expired or revoked) over SESSION_RETENTION seconds ago;
    how many. A refresh token of a deleted session is TOKEN_REVOKED, as it was before."""
    retention = timedelta(seconds=services.settings.session_retention)
    before = services.clock.now() - retention
    purged = 0
    while True:
        async with services.db.transaction() as session:
            deleted = await sessions_repo.purge_ended(session, before=before, limit=BATCH)
        purged += deleted
        if deleted < BATCH:
            return purged


async def purge_ended_tickets(services: Services) -> int:
    """Delete expired MFA_REQUIRED tickets (a login issues one; the account's own spent and
    expired ones go when it issues the next, these are of accounts that did not come back)."""
    async with services.db.transaction() as session:
        return await mfa_repo.purge_tickets(session, before=services.clock.now())
