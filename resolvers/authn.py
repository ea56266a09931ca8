"""Authentication of one request: turn a Bearer header into a principal or a coded refusal."""

from __future__ import annotations

from core import tokens
from core.errors import AppError, ErrorCode
from persistence import sessions as sessions_repo
from persistence.views import UserView
from resolvers.deps import Caller, Principal, Services


async def authenticate(services: Services, caller: Caller, authorization: str) -> None:
    """Set `caller.principal`, or `caller.auth_error` explaining why the token was refused."""
    try:
        caller.principal, caller.user = await _verify(services, caller, authorization)
    except AppError as error:
        caller.auth_error = error


async def _verify(
    services: Services, caller: Caller, authorization: str
) -> tuple[Principal, UserView]:
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
        user = await sessions_repo.live_session_user(
            connection,
            session_id=claims.session_id,
            user_id=claims.user_id,
            access_jti=claims.jti,
            token_version=claims.token_version,
            now=now,
        )
    if user is None:  # revoked, expired, rotated, or the account changed since
        raise AppError(ErrorCode.TOKEN_REVOKED)
    return Principal(user_id=user.id, role=user.role, session_id=claims.session_id), user
