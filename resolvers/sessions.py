"""Sessions as their users see them: list mine, end one; admins list and end a user's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.audit import AuditAction
from core.errors import AppError, ErrorCode
from persistence import sessions as sessions_repo
from persistence import users as users_repo
from persistence.models import AuthSession
from resolvers.access import forbid_api_key, require_admin
from resolvers.audit_log import record
from resolvers.auth import revoke_user_tokens
from resolvers.deps import Caller, Services


@dataclass(frozen=True, slots=True)
class SessionView:
    id: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    ip_address: str | None
    user_agent: str | None
    current: bool

    @classmethod
    def of(cls, row: AuthSession, current_id: str | None) -> SessionView:
        return cls(
            id=row.id,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
            ip_address=row.ip_address,
            user_agent=row.user_agent,
            current=row.id == current_id,
        )


async def my_sessions(services: Services, caller: Caller) -> list[SessionView]:
    """The caller's live sessions, newest first (not to an API key: sessions are credentials,
    and their list is where a person sees and ends them)."""
    principal = forbid_api_key(caller)
    return await _sessions_of(services, principal.user_id, principal.session_id)


async def user_sessions(services: Services, caller: Caller, *, user_id: int) -> list[SessionView]:
    """A user's live sessions, newest first (admins, signed in with a session)."""
    principal = require_admin(caller)
    forbid_api_key(caller)
    return await _sessions_of(services, user_id, principal.session_id)


async def revoke_session(services: Services, caller: Caller, *, session_id: str) -> bool:
    """End one of the caller's own sessions; another user's id is NOT_FOUND."""
    principal, now = forbid_api_key(caller), services.clock.now()
    async with services.db.transaction() as session:
        ended = await sessions_repo.revoke_own(
            session, session_id, principal.user_id, now=now, reason="revoked"
        )
        if ended:
            await record(
                session,
                caller,
                AuditAction.SESSION_REVOKED,
                subject_id=principal.user_id,
                details={"session_id": session_id},
                at=now,
            )
    if not ended:
        raise AppError(ErrorCode.NOT_FOUND, "Session not found")
    return True


async def revoke_user_sessions(services: Services, caller: Caller, *, user_id: int) -> bool:
    """End every session of a user (admins): their tokens stop working at once."""
    require_admin(caller)
    forbid_api_key(caller)
    async with services.db.transaction() as session:
        if await users_repo.get(session, user_id, include_deleted=True) is None:
            raise AppError(ErrorCode.USER_NOT_FOUND)
        await revoke_user_tokens(services, session, user_id, reason="admin-revoked")
        await record(
            session,
            caller,
            AuditAction.SESSION_REVOKED,
            subject_id=user_id,
            details={"all": True},
            at=services.clock.now(),
        )
    return True


async def _sessions_of(services: Services, user_id: int, current: str) -> list[SessionView]:
    async with services.db.transaction() as session:
        rows = await sessions_repo.live_of_user(session, user_id, now=services.clock.now())
    return [SessionView.of(row, current) for row in rows]
