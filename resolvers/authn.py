"""Authentication of one request: turn a Bearer header into a principal or a coded refusal."""

from __future__ import annotations

from core import tokens
from core.errors import AppError, ErrorCode
from persistence import sessions as sessions_repo
from persistence.models import User
from resolvers.deps import Caller, Principal, Services


async def authenticate(services: Services, caller: Caller, authorization: str) -> None:
    """Set `caller.principal`, or `caller.auth_error` explaining why the token was refused."""
    try:
        caller.principal, caller.user = await _verify(services, caller, authorization)
    except AppError as error:
        caller.auth_error = error


async def _verify(services: Services, caller: Caller, authorization: str) -> tuple[Principal, User]:
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise AppError(ErrorCode.MISSING_AUTH_HEADER)
    now = services.clock.now()
    claims = tokens.decode(services.settings, token, "access", now=now)
    expected = tokens.fingerprint(services.settings.token_fingerprint, caller.ip, caller.user_agent)
    if claims.fingerprint != expected:
        raise AppError(ErrorCode.TOKEN_CONTEXT_MISMATCH)
    async with services.db.reading() as connection:
        found = await sessions_repo.access_check(connection, claims.session_id)
    if found is None:
        raise AppError(ErrorCode.TOKEN_REVOKED)
    user = found.user
    if (
        found.revoked_at is not None
        or found.expires_at <= now
        or found.access_jti != claims.jti
        or found.user_id != claims.user_id
        or user.deleted_at is not None
        or not user.is_active
        or user.token_version != claims.token_version
    ):
        raise AppError(ErrorCode.TOKEN_REVOKED)
    return Principal(user_id=user.id, role=user.role, session_id=claims.session_id), user
