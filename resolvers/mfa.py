"""The TOTP second factor (contract section 6): enroll, confirm, finish a login with a code,
disable, regenerate recovery codes, and an admin's reset.

Turning the factor on or off, new recovery codes and a reset end the user's other sessions
(a reset: all of them), which were opened under what no longer holds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from core import email_tokens, metrics, totp
from core.audit import AuditAction
from core.errors import AppError, ErrorCode, validation_error
from persistence import mfa as mfa_repo
from persistence import sessions as sessions_repo
from persistence import users as users_repo
from persistence.models import TotpFactor
from resolvers.access import forbid_api_key, require_admin
from resolvers.audit import security_event
from resolvers.audit_log import record
from resolvers.auth import TokenPair, open_session, revoke_user_tokens
from resolvers.deps import Caller, Services
from resolvers.limits import limit_client
from resolvers.second_factor import (
    client_fingerprint,
    code_attempt,
    recovery_hashes,
    seal_secret,
    step_matching,
    use_code,
)
from resolvers.signin import confirm_password
from resolvers.user_inputs import parse_user_id


@dataclass(frozen=True, slots=True)
class TotpEnrollment:
    secret: str
    otpauth_uri: str


async def enroll_totp(services: Services, caller: Caller, *, password: str) -> TotpEnrollment:
    """A fresh secret, pending until `confirm_totp` proves an authenticator holds it."""
    forbid_api_key(caller)
    user = await confirm_password(services, caller, password, "enroll-totp")
    if user.mfa_enabled:
        raise validation_error({"mfaEnabled": ["The second factor is on: disable it first"]})
    secret, now = totp.new_secret(), services.clock.now()
    row = TotpFactor(
        user_id=user.id, secret_sealed=seal_secret(services, user.id, secret), created_at=now
    )
    async with services.db.transaction() as session:
        await mfa_repo.put_pending(session, row)
    uri = totp.otpauth_uri(secret, account=user.email, issuer=services.settings.totp_issuer)
    return TotpEnrollment(secret, uri)


async def confirm_totp(services: Services, caller: Caller, *, code: str) -> list[str]:
    """Turn the pending factor on with a code of it; the 10 recovery codes, shown this once."""
    principal = forbid_api_key(caller)
    codes, now = totp.new_recovery_codes(), services.clock.now()
    async with (
        code_attempt(services, caller, principal.user_id),
        services.db.transaction() as session,
    ):
        factor = await mfa_repo.factor_of(session, principal.user_id)
        if factor is None or factor.confirmed_at is not None:
            raise validation_error({"code": ["Nothing to confirm: call enrollTotp first"]})
        step = step_matching(services, factor, totp.normalise_code(code))
        if step is None or not await mfa_repo.confirm(session, factor.user_id, step=step, now=now):
            raise AppError(ErrorCode.INVALID_MFA_CODE)
        await _set_enabled(services, session, caller, True, "mfa-enabled")
        await mfa_repo.replace_recovery_codes(
            session, factor.user_id, recovery_hashes(services, codes), now
        )
        await record(session, caller, AuditAction.MFA_ENABLED, subject_id=factor.user_id, at=now)
    await services.users.invalidate()
    return codes


async def disable_totp(services: Services, caller: Caller, *, password: str, code: str) -> bool:
    """Turn the factor off with the password and a TOTP or recovery code."""
    forbid_api_key(caller)
    async with _proven(services, caller, password, code, "disable-totp") as (session, user_id):
        await mfa_repo.remove(session, user_id)
        await _set_enabled(services, session, caller, False, "mfa-disabled")
        await record(session, caller, AuditAction.MFA_DISABLED, subject_id=user_id)
    await services.users.invalidate()
    return True


async def regenerate_recovery_codes(
    services: Services, caller: Caller, *, password: str, code: str
) -> list[str]:
    """Ten new recovery codes in place of the old ones, shown this once."""
    forbid_api_key(caller)
    codes = totp.new_recovery_codes()
    async with _proven(services, caller, password, code, "recovery-codes") as (session, user_id):
        hashes = recovery_hashes(services, codes)
        await mfa_repo.replace_recovery_codes(session, user_id, hashes, services.clock.now())
        await _end_other_sessions(services, session, caller, "recovery-codes")
    return codes


async def reset_mfa(services: Services, caller: Caller, *, user_id: str | int) -> bool:
    """An admin turns a user's factor off (a lost authenticator) and ends all their sessions."""
    require_admin(caller)
    forbid_api_key(caller)
    target = parse_user_id(user_id)
    async with services.db.transaction() as session:
        user = await users_repo.get(session, target)
        if user is None:
            raise AppError(ErrorCode.USER_NOT_FOUND)
        await mfa_repo.remove(session, target)
        await mfa_repo.set_enabled(session, target, False, services.clock.now())
        await revoke_user_tokens(services, session, target, reason="mfa-reset")
        await record(session, caller, AuditAction.MFA_RESET, subject_id=target)
    await services.users.invalidate()
    return True


async def verify_mfa(services: Services, caller: Caller, *, mfa_token: str, code: str) -> TokenPair:
    """Finish a login that answered MFA_REQUIRED: the ticket and a TOTP or recovery code, once."""
    await limit_client(services, caller, "login-ip", services.settings.login_rate_limit_ip)
    if not mfa_token or len(mfa_token) > email_tokens.MAX_TOKEN_LENGTH:
        raise AppError(ErrorCode.INVALID_MFA_CODE)
    ticket_hash, now = email_tokens.token_hash(mfa_token), services.clock.now()
    async with services.db.transaction() as session:
        ticket = await mfa_repo.live_ticket(session, ticket_hash, now)
    if ticket is None or ticket.fingerprint != client_fingerprint(services, caller):
        security_event(caller, "mfa_failed", reason="ticket")
        raise AppError(ErrorCode.INVALID_MFA_CODE)
    try:
        async with (
            code_attempt(services, caller, ticket.user_id, ticket_hash),
            services.db.transaction() as session,
        ):
            user = await users_repo.get(session, ticket.user_id)
            factor = await mfa_repo.factor_of(session, ticket.user_id)
            signed_in = (
                user is not None
                and user.is_active
                and user.token_version == ticket.token_version
                and factor is not None
                and factor.confirmed_at is not None
                and await mfa_repo.use_ticket(session, ticket_hash, now)
                and await use_code(services, session, factor, code)
            )
            if not signed_in or user is None:
                raise AppError(ErrorCode.INVALID_MFA_CODE)  # and nothing was spent
    except AppError as error:
        if error.code is ErrorCode.INVALID_MFA_CODE:
            security_event(caller, "mfa_failed", reason="code")
        raise
    metrics.AUTH_EVENTS.labels("login").inc()
    return await open_session(services, caller, user, None)


@asynccontextmanager
async def _proven(
    services: Services, caller: Caller, password: str, code: str, door: str
) -> AsyncIterator[tuple[AsyncSession, int]]:
    """The caller's transaction once their password (a sign-in attempt) and a code of their
    confirmed factor (under the account's code budget) are proven; the code is spent with
    whatever the block writes."""
    user = await confirm_password(services, caller, password, door)
    async with code_attempt(services, caller, user.id), services.db.transaction() as session:
        factor = await mfa_repo.factor_of(session, user.id)
        if factor is None or factor.confirmed_at is None:
            raise validation_error({"code": ["The second factor is not on"]})
        if not await use_code(services, session, factor, code):
            raise AppError(ErrorCode.INVALID_MFA_CODE)
        yield session, user.id


async def _set_enabled(
    services: Services, session: AsyncSession, caller: Caller, enabled: bool, reason: str
) -> None:
    principal = caller.require_principal()
    await mfa_repo.set_enabled(session, principal.user_id, enabled, services.clock.now())
    await _end_other_sessions(services, session, caller, reason)


async def _end_other_sessions(
    services: Services, session: AsyncSession, caller: Caller, reason: str
) -> None:
    principal = caller.require_principal()
    await sessions_repo.revoke_others(
        session,
        principal.user_id,
        keep=principal.session_id,
        now=services.clock.now(),
        reason=reason,
    )
