"""Passwords: change one signed in, or reset a forgotten one through a mailed link.

`requestPasswordReset` answers `true` whether or not the account exists, after the same work:
the same rate limits and the same two rows written (an `outgoing_mails` row naming the address,
and its `password.reset_requested` audit event, which names no account). Whether an account is behind it is only looked at by the mail job, outside the request.
"""

from __future__ import annotations

import asyncio

from core import email_tokens
from core.audit import AuditAction
from core.errors import AppError, ErrorCode, Problems
from core.validation import check_email, normalise_email
from persistence import account_tokens
from persistence import sessions as sessions_repo
from persistence import users as users_repo
from resolvers.access import forbid_api_key
from resolvers.audit_log import record
from resolvers.auth import revoke_user_tokens
from resolvers.deps import Caller, Services
from resolvers.limits import limit_client, limit_mail
from resolvers.mail import queue_mail, send_queued
from resolvers.signin import confirm_password


def check_new_password(services: Services, password: str, field: str = "newPassword") -> None:
    problems = Problems()
    for message in services.hasher.policy_problems(password):
        problems.add(field, message)
    problems.raise_if_any()


async def change_password(
    services: Services, caller: Caller, *, current_password: str, new_password: str
) -> bool:
    """Check the current password (a sign-in attempt), set the new one and end every other
    session of the caller; the calling session goes on."""
    principal = forbid_api_key(caller)
    check_new_password(services, new_password)
    user = await confirm_password(services, caller, current_password, "change-password")
    new_hash = await asyncio.to_thread(services.hasher.hash, new_password)
    now = services.clock.now()
    async with services.db.transaction() as session:
        await users_repo.set_password_hash(session, user.id, new_hash)
        await sessions_repo.revoke_others(
            session, user.id, keep=principal.session_id, now=now, reason="password-changed"
        )
        await account_tokens.void(session, user.id, "reset", now=now)
        await record(session, caller, AuditAction.PASSWORD_CHANGED, subject_id=user.id, at=now)
    return True


async def request_password_reset(services: Services, caller: Caller, *, email: str) -> bool:
    """Queue a reset mail for `email`; true whether or not an account holds it."""
    email = normalise_email(email)
    problems = Problems()
    check_email(problems, email)
    problems.raise_if_any()
    await limit_mail(services, caller, "password-reset", email)
    async with services.db.transaction() as session:
        mail_id = await queue_mail(
            services, session, kind="password_reset", address=email, user_id=None
        )
        await record(
            session,
            caller,
            AuditAction.PASSWORD_RESET_REQUESTED,
            details={"email": email},
            at=services.clock.now(),
        )
    await send_queued(services, mail_id)
    return True


async def reset_password(
    services: Services, caller: Caller, *, token: str, new_password: str
) -> bool:
    """Redeem a reset token once: set the password and end every session of the account."""
    await limit_client(services, caller, "login-ip", services.settings.login_rate_limit_ip)
    check_new_password(services, new_password)
    if not token or len(token) > email_tokens.MAX_TOKEN_LENGTH:
        raise AppError(ErrorCode.TOKEN_INVALID)
    new_hash = await asyncio.to_thread(services.hasher.hash, new_password)
    now = services.clock.now()
    async with services.db.transaction() as session:
        row = await account_tokens.redeem(session, email_tokens.token_hash(token), "reset", now=now)
        user = None if row is None else await users_repo.get(session, row.user_id)
        if row is None or user is None or not user.is_active or user.email != row.email:
            raise AppError(ErrorCode.TOKEN_INVALID)
        await users_repo.set_password_hash(session, user.id, new_hash)
        await revoke_user_tokens(services, session, user.id, reason="password-reset")
        await record(
            session,
            caller,
            AuditAction.PASSWORD_RESET,
            actor_id=user.id,
            subject_id=user.id,
            at=now,
        )
    return True
