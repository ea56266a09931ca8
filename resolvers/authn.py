"""Authentication of one request: turn a Bearer header into a principal or a coded refusal."""

from __future__ import annotations

import time

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
        return
    await touch_session(services, caller.principal.session_id, services.session_touches)


# `lastUsedAt` moves at most once a minute per session: each process remembers when it last
# wrote it, so a request costs a dict lookup, and one UPDATE a minute at most.
TOUCH_EVERY = 60.0
_REMEMBERED = 50_000


async def touch_session(services: Services, session_id: str, touched: dict[str, float]) -> None:
    """Record that a session was used, at most once a minute (see TOUCH_EVERY)."""
    now = time.monotonic()
    last = touched.get(session_id)
    if last is not None and now - last < TOUCH_EVERY:
        return
    if len(touched) >= _REMEMBERED:
        touched.clear()
    touched[session_id] = now
    async with services.db.transaction() as session:
        await sessions_repo.touch(session, session_id, now=services.clock.now(), every=TOUCH_EVERY)


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
