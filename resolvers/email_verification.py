"""E-mail verification: a link mailed at sign-up (or on request) proves the address."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from core import email_tokens
from core.audit import AuditAction
from core.errors import AppError, ErrorCode, Problems
from core.validation import check_email, normalise_email
from persistence import account_tokens
from persistence import users as users_repo
from persistence.models import User
from persistence.views import UserView
from resolvers.access import forbid_api_key, shown_to
from resolvers.audit_log import record
from resolvers.deps import Caller, Services
from resolvers.limits import limit_mail
from resolvers.mail import queue_mail, send_queued
from resolvers.signin import confirm_password


async def send_verification(services: Services, caller: Caller | None, user: User) -> None:
    """Queue a verification mail for a new account (its own transaction)."""
    async with services.db.transaction() as session:
        mail_id = await queue_mail(
            services, session, kind="verify_email", address=user.email, user_id=user.id
        )
        await _sent(services, session, caller, user.id, user.email)
    await send_queued(services, mail_id)


async def _sent(
    services: Services, session: AsyncSession, caller: Caller | None, user_id: int, address: str
) -> None:
    await record(
        session,
        caller,
        AuditAction.EMAIL_VERIFICATION_SENT,
        subject_id=user_id,
        details={"email": address},
        at=services.clock.now(),
    )


async def request_email_verification(services: Services, caller: Caller) -> bool:
    """Mail the caller a new link (the older one stops working); rate limited."""
    principal = forbid_api_key(caller)
    async with services.db.transaction() as session:
        user = await users_repo.get(session, principal.user_id)
    if user is None:
        raise AppError(ErrorCode.TOKEN_REVOKED)
    await limit_mail(services, caller, "verify-email", user.email)
    await send_verification(services, caller, user)
    return True


async def verify_email(services: Services, caller: Caller, *, token: str) -> UserView:
    """Redeem a verification token once: the address it was sent to becomes the account's,
    verified (for `changeEmail`, the change takes effect now and the old address gets a notice)."""
    if not token or len(token) > email_tokens.MAX_TOKEN_LENGTH:
        raise AppError(ErrorCode.TOKEN_INVALID)
    now, notice = services.clock.now(), None
    async with services.db.transaction() as session:
        row = await account_tokens.redeem(
            session, email_tokens.token_hash(token), "verify", now=now
        )
        user = None if row is None else await users_repo.get(session, row.user_id)
        if row is None or user is None or not user.is_active:
            raise AppError(ErrorCode.TOKEN_INVALID)
        old_email = user.email  # the row is read again below, changed
        if row.email != user.email:
            await _check_free(session, row.email)
            notice = await queue_mail(
                services, session, kind="email_changed", address=user.email, user_id=user.id
            )
            await account_tokens.void(session, user.id, "reset", now=now)
        await session.execute(
            update(User)
            .where(User.id == user.id)
            .values(email=row.email, email_verified=True, version=User.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        verified = await users_repo.get(session, user.id)
        await record(
            session,
            caller,
            AuditAction.EMAIL_VERIFIED if notice is None else AuditAction.EMAIL_CHANGED,
            actor_id=user.id,
            subject_id=user.id,
            details={"email": row.email}
            if notice is None
            else {"from_email": old_email, "email": row.email},
            at=now,
        )
    await services.users.invalidate()
    if notice is not None:
        await send_queued(services, notice)
    assert verified is not None
    return shown_to(caller, UserView.of(verified))


async def change_email(
    services: Services, caller: Caller, *, password: str, new_email: str
) -> bool:
    """Check the password (a sign-in attempt) and mail a verification link to `new_email`; the
    address changes when the link is followed."""
    forbid_api_key(caller)
    new_email = normalise_email(new_email)
    problems = Problems()
    check_email(problems, new_email)
    problems.raise_if_any()
    user = await confirm_password(services, caller, password, "change-email")
    await limit_mail(services, caller, "change-email", new_email)
    async with services.db.transaction() as session:
        await _check_free(session, new_email)
        mail_id = await queue_mail(
            services, session, kind="verify_email", address=new_email, user_id=user.id
        )
        await _sent(services, session, caller, user.id, new_email)
    await send_queued(services, mail_id)
    return True


async def _check_free(session: AsyncSession, email: str) -> None:
    if await users_repo.get_by_email(session, email) is not None:
        raise AppError(ErrorCode.EMAIL_EXISTS)
