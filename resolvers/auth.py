"""The token lifecycle: register, login, refresh (rotation + reuse detection), logout, logoutAll."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core import metrics, tokens
from core.audit import AuditAction
from core.errors import AppError, ErrorCode
from core.settings import Settings
from core.validation import normalise_email
from persistence import sessions as sessions_repo
from persistence import users as users_repo
from persistence.models import AuthSession, User
from persistence.views import UserView
from resolvers.access import forbid_api_key, shown_to
from resolvers.accounts import check_new_account, create_account
from resolvers.audit import security_event
from resolvers.audit_log import record
from resolvers.deps import Caller, Services
from resolvers.email_verification import send_verification
from resolvers.limits import limit_client
from resolvers.second_factor import second_factor_required
from resolvers.signin import failed_sign_in, sign_in_attempt


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"


async def register(
    services: Services, caller: Caller, *, name: str, email: str, password: str, role: str = "user"
) -> UserView:
    """Public sign-up; idempotent for the same email and password (contract section 3)."""
    user = await _registered(services, caller, name=name, email=email, password=password, role=role)
    return shown_to(caller, UserView.of(user))


async def _registered(
    services: Services, caller: Caller, *, name: str, email: str, password: str, role: str
) -> User:
    """The account a sign-up answers: the one it created, or the one it replays."""
    await limit_client(services, caller, "register-ip", services.settings.register_rate_limit_ip)
    check_new_account(services, name=name, email=email, password=password)
    email = normalise_email(email)
    async with services.db.transaction() as session:
        existing = await users_repo.get_by_email(session, email)
    if existing is not None:  # a replay creates nothing, so it needs no admin token
        return await _replay_registration(services, caller, existing, password, role)
    if role != "user" and caller.auth_error is not None:
        raise caller.auth_error  # an admin's expired token: say so, so the client can refresh
    if role != "user" and (caller.principal is None or not caller.principal.is_admin):
        security_event(caller, "forbidden", action="register-admin")
        raise AppError(ErrorCode.FORBIDDEN, "Only an admin can create admin accounts")
    try:
        user = await create_account(
            services,
            name=name,
            email=email,
            password=password,
            role=role,
            created_by=caller.principal.user_id if caller.principal else None,
            caller=caller,
        )
    except AppError as error:
        if error.code is not ErrorCode.EMAIL_EXISTS:
            raise
        async with services.db.transaction() as session:  # lost a race with the same sign-up
            existing = await users_repo.get_by_email(session, email)
        if existing is None:
            raise
        return await _replay_registration(services, caller, existing, password, role)
    await send_verification(services, caller, user)
    return user


async def _replay_registration(
    services: Services, caller: Caller, existing: User, password: str, role: str
) -> User:
    """Registering a taken email is a sign-in attempt: it spends that account's budgets as a
    failed login does, and replays the original answer only with its password and its own
    role, for an active account; anything else is EMAIL_EXISTS (never a change of role)."""
    async with sign_in_attempt(services, caller, existing.email) as attempt:
        if await attempt.verify(existing, password):
            if existing.role != role:
                raise AppError(ErrorCode.EMAIL_EXISTS)
            return existing
    await failed_sign_in(services, caller, door="register", user_id=existing.id)
    raise AppError(ErrorCode.EMAIL_EXISTS)


async def login(services: Services, caller: Caller, *, email: str, password: str) -> TokenPair:
    """Check the credentials (budgets first, one hash verified whether or not the account
    exists) and open a session."""
    email = normalise_email(email)
    async with sign_in_attempt(services, caller, email) as attempt:
        async with services.db.transaction() as session:
            user = await users_repo.get_by_email(session, email)
        signed_in = await attempt.verify(user, password)
    if not signed_in or user is None:
        metrics.AUTH_EVENTS.labels("login_failed").inc()
        await failed_sign_in(services, caller, door="login", user_id=user.id if user else None)
        raise AppError(ErrorCode.INVALID_CREDENTIALS)
    if services.settings.require_verified_email and not user.email_verified:
        await failed_sign_in(
            services, caller, door="login", user_id=user.id, reason="email_not_verified"
        )
        raise AppError(ErrorCode.EMAIL_NOT_VERIFIED)
    rehash = services.hasher.needs_rehash(user.password_hash)
    new_hash = await asyncio.to_thread(services.hasher.hash, password) if rehash else None
    if user.mfa_enabled:  # the session waits for the second factor (`resolvers.mfa.verify_mfa`)
        metrics.AUTH_EVENTS.labels("mfa_required").inc()
        raise await second_factor_required(services, caller, user, new_hash)
    metrics.AUTH_EVENTS.labels("login").inc()
    return await open_session(services, caller, user, new_hash)


async def open_session(
    services: Services, caller: Caller, user: User, new_hash: str | None
) -> TokenPair:
    """A new session for a user whose credentials (and second factor) are proven: its token
    pair, the login recorded and audited; `login` and `verify_mfa` both end here."""
    settings, now = services.settings, services.clock.now()
    row = AuthSession(
        id=tokens.new_id(),
        user_id=user.id,
        access_jti=tokens.new_id(),
        refresh_jti=tokens.new_id(),
        fingerprint=_fingerprint(services, caller),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.refresh_token_expires),
        last_used_at=now,
        ip_address=caller.ip[:45],
        user_agent=caller.user_agent[:255] or None,
    )
    async with services.db.transaction() as session:
        if new_hash is not None:
            await users_repo.set_password_hash(session, user.id, new_hash)
        await sessions_repo.record_login(session, user.id, now)
        await sessions_repo.open_session(session, row)
        await record(
            session,
            caller,
            AuditAction.LOGIN_SUCCEEDED,
            actor_id=user.id,
            subject_id=user.id,
            details={"session_id": row.id},
            at=now,
        )
    services.session_touches[row.id] = time.monotonic()  # last_used_at is now: no UPDATE soon
    return _issue(services, row, user.token_version)


async def refresh(services: Services, caller: Caller, *, refresh_token: str) -> TokenPair:
    """Rotate a session's pair; a refresh token used twice revokes the whole session."""
    settings, now = services.settings, services.clock.now()
    await limit_client(services, caller, "refresh-ip", settings.refresh_rate_limit_ip)
    claims = tokens.decode(settings, refresh_token, "refresh", now=now)
    if claims.fingerprint != _fingerprint(services, caller):
        raise AppError(ErrorCode.TOKEN_CONTEXT_MISMATCH)
    access_jti, refresh_jti = tokens.new_id(), tokens.new_id()
    async with services.db.transaction() as session:
        found = await sessions_repo.get_with_user(session, claims.session_id)
        if found is None:
            raise AppError(ErrorCode.TOKEN_REVOKED)
        row, user = found
        _check_user(user, claims.token_version)
        won = await sessions_repo.rotate(
            session,
            session_id=row.id,
            used_refresh_jti=claims.jti,
            access_jti=access_jti,
            refresh_jti=refresh_jti,
            now=now,
        )
        live = row.revoked_at is None and row.expires_at > now
        reused = not won and live and not _just_rotated(settings, row, claims.jti, now)
        if reused:
            await sessions_repo.revoke(session, row.id, now=now, reason="reuse")
            await record(
                session,
                caller,
                AuditAction.TOKEN_REUSE_DETECTED,
                subject_id=row.user_id,
                details={"session_id": row.id},
                at=now,
            )
    if reused:
        metrics.AUTH_EVENTS.labels("refresh_reuse").inc()
        security_event(caller, "refresh_reuse", session_user=row.user_id)
    if not won:  # revoked, expired, or a replay (whose revocation committed above)
        raise AppError(ErrorCode.TOKEN_REVOKED)
    metrics.AUTH_EVENTS.labels("refresh").inc()
    row.access_jti, row.refresh_jti = access_jti, refresh_jti
    return _issue(services, row, user.token_version)


async def logout(services: Services, caller: Caller) -> bool:
    """Revoke the caller's session: its access and refresh tokens both stop working. An API key
    has no session to end (and ends with `revokeApiKey`, from a session): FORBIDDEN."""
    principal, now = forbid_api_key(caller), services.clock.now()
    async with services.db.transaction() as session:
        await sessions_repo.revoke(session, principal.session_id, now=now, reason="logout")
        await record(
            session,
            caller,
            AuditAction.LOGOUT,
            subject_id=principal.user_id,
            details={"session_id": principal.session_id},
            at=now,
        )
    return True


async def logout_all(services: Services, caller: Caller) -> bool:
    """Revoke every session of the caller, on every device (from a session, not an API key)."""
    principal = forbid_api_key(caller)
    async with services.db.transaction() as session:
        await revoke_user_tokens(services, session, principal.user_id, reason="logout-all")
        await record(
            session,
            caller,
            AuditAction.LOGOUT_ALL,
            subject_id=principal.user_id,
            at=services.clock.now(),
        )
    return True


async def revoke_user_tokens(
    services: Services, session: AsyncSession, user_id: int, *, reason: str
) -> None:
    """Inside a caller's transaction: bump token_version and revoke all sessions of a user."""
    await users_repo.bump_token_version(session, user_id)
    await sessions_repo.revoke_all(session, user_id, now=services.clock.now(), reason=reason)


def _just_rotated(settings: Settings, row: AuthSession, jti: str, now: datetime) -> bool:
    """Whether `jti` is the refresh token rotated away less than REFRESH_REUSE_LEEWAY seconds
    ago (or being rotated right now by a concurrent refresh): a second tab, not a replay."""
    leeway = settings.refresh_reuse_leeway
    if leeway <= 0:
        return False
    if row.refresh_jti == jti:  # a concurrent refresh won the rotation after we read the row
        return True
    rotated = row.rotated_at
    return (
        row.previous_refresh_jti == jti
        and rotated is not None
        and now - rotated <= timedelta(seconds=leeway)
    )


def _check_user(user: User, token_version: int) -> None:
    if user.deleted_at is not None or not user.is_active or user.token_version != token_version:
        raise AppError(ErrorCode.TOKEN_REVOKED)


def _fingerprint(services: Services, caller: Caller) -> str:
    return tokens.fingerprint(services.settings.token_fingerprint, caller.ip, caller.user_agent)


def _issue(services: Services, row: AuthSession, token_version: int) -> TokenPair:
    """The session's current pair: the access token short-lived, the refresh token until the
    session's absolute end."""
    settings, now = services.settings, services.clock.now()

    def sign(kind: tokens.TokenType, jti: str, expires_at: datetime) -> str:
        return tokens.encode(
            settings,
            kind,
            user_id=row.user_id,
            session_id=row.id,
            jti=jti,
            token_version=token_version,
            fingerprint=row.fingerprint,
            issued_at=now,
            expires_at=expires_at,
        )

    access = sign("access", row.access_jti, now + timedelta(seconds=settings.access_token_expires))
    return TokenPair(
        access, sign("refresh", row.refresh_jti, row.expires_at), settings.access_token_expires
    )
