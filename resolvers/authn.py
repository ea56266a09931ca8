"""Authentication of one request: turn a Bearer header into a principal or a coded refusal.

The bearer is a session's access token (a JWT) or an API key (`agk_...`); either is checked
against the database in one SELECT that answers the user only while the credential is live.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import TypeVar

from core import api_keys, tokens
from core.errors import AppError, ErrorCode
from persistence import api_keys as api_keys_repo
from persistence import last_used
from persistence import sessions as sessions_repo
from persistence.models import ApiKey, AuthSession
from persistence.views import UserView
from resolvers.deps import Caller, Principal, Services

K = TypeVar("K")


async def authenticate(services: Services, caller: Caller, authorization: str) -> None:
    """Set `caller.principal`, or `caller.auth_error` explaining why the token was refused."""
    try:
        caller.principal, caller.user = await _verify(services, caller, authorization)
    except AppError as error:
        caller.auth_error = error
        return
    key_id = caller.principal.api_key_id
    if key_id is None:
        await touch_session(services, caller.principal.session_id, services.session_touches)
    elif _due(services.api_key_touches, key_id):
        async with services.db.transaction() as session:
            await last_used.touch(
                session, ApiKey, key_id, now=services.clock.now(), every=TOUCH_EVERY
            )


# `lastUsedAt` moves at most once a minute per session or key: each process remembers when it
# last wrote it, so a request costs a dict lookup, and one UPDATE a minute at most.
TOUCH_EVERY = 60.0
_REMEMBERED = 50_000


async def touch_session(services: Services, session_id: str, touched: dict[str, float]) -> None:
    """Record that a session was used, at most once a minute (see TOUCH_EVERY)."""
    if not _due(touched, session_id):
        return
    async with services.db.transaction() as session:
        await last_used.touch(
            session, AuthSession, session_id, now=services.clock.now(), every=TOUCH_EVERY
        )


def _due(touched: dict[K, float], key: K) -> bool:
    """Whether this process should write `key`'s `last_used_at` now (and remember it did)."""
    now = time.monotonic()
    last = touched.get(key)
    if last is not None and now - last < TOUCH_EVERY:
        return False
    if len(touched) >= _REMEMBERED:
        touched.clear()
    touched[key] = now
    return True


async def _verify(
    services: Services, caller: Caller, authorization: str
) -> tuple[Principal, UserView]:
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise AppError(ErrorCode.MISSING_AUTH_HEADER)
    now = services.clock.now()
    if api_keys.is_api_key(token):
        return await _verify_api_key(services, token, now)
    claims = tokens.decode(services.settings, token, "access", now=now)
    expected = tokens.fingerprint(services.settings.token_fingerprint, caller.ip, caller.user_agent)
    if claims.fingerprint != expected:
        raise AppError(ErrorCode.TOKEN_CONTEXT_MISMATCH)
    async with services.db.reading_now() as connection:
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


_KEY_REFUSALS = {
    "unknown": ErrorCode.TOKEN_INVALID,
    "expired": ErrorCode.TOKEN_EXPIRED,
    "revoked": ErrorCode.TOKEN_REVOKED,
}


async def _verify_api_key(
    services: Services, secret: str, now: datetime
) -> tuple[Principal, UserView]:
    """An API key acts as its owner, from wherever it is sent (no client fingerprint): the
    owner's role and state are read in the same SELECT as the key's, on every request."""
    if not api_keys.well_formed(secret):
        raise AppError(ErrorCode.TOKEN_INVALID)
    digest = api_keys.secret_hash(api_keys.hashing_key(services.settings.secret_key), secret)
    async with services.db.reading_now() as connection:
        found = await api_keys_repo.live_key_user(connection, secret_hash=digest, now=now)
        if found is None:
            why = await api_keys_repo.why_refused(connection, secret_hash=digest, now=now)
            raise AppError(_KEY_REFUSALS[why])
    user, key_id = found
    return Principal(user_id=user.id, role=user.role, session_id="", api_key_id=key_id), user
