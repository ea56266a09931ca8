"""Creating accounts: the one path behind register, createUser, create-admin and seed-data."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.exc import IntegrityError

from core.audit import AuditAction
from core.errors import AppError, ErrorCode, Problems
from core.validation import check_email, check_name, check_password, normalise_email
from persistence import users as users_repo
from persistence.models import User
from resolvers.audit_log import record
from resolvers.deps import Caller, Services

log = logging.getLogger("app.accounts")


def check_new_account(services: Services, *, name: str, email: str, password: str) -> None:
    """Raise one VALIDATION_ERROR listing every bad field of a new account."""
    problems = Problems()
    check_name(problems, name)
    check_email(problems, normalise_email(email))
    check_password(problems, services.hasher, password)
    problems.raise_if_any()


async def create_account(
    services: Services,
    *,
    name: str,
    email: str,
    password: str,
    role: str,
    created_by: int | None = None,
    caller: Caller | None = None,
) -> User:
    """Validate, hash (off the event loop) and insert a user; a taken email is EMAIL_EXISTS.
    The `user.created` event names `caller` (None: the system, e.g. the CLI) as the actor."""
    check_new_account(services, name=name, email=email, password=password)
    email = normalise_email(email)
    password_hash = await asyncio.to_thread(services.hasher.hash, password)
    now = services.clock.now()
    try:
        async with services.db.transaction() as session:
            if await users_repo.get_by_email(session, email) is not None:
                raise AppError(ErrorCode.EMAIL_EXISTS)
            user = User(
                name=name.strip(),
                email=email,
                password_hash=password_hash,
                role=role,
                is_active=True,
                token_version=0,
                version=1,
                created_at=now,
                updated_at=now,
                created_by=created_by,
            )
            session.add(user)
            await session.flush()
            await record(
                session,
                caller,
                AuditAction.USER_CREATED,
                subject_id=user.id,
                details={"role": role},
                at=now,
            )
    except IntegrityError as exc:  # a concurrent insert of the same email won
        raise AppError(ErrorCode.EMAIL_EXISTS) from exc
    await services.users.invalidate()
    return user


async def create_first_admin(services: Services) -> User | None:
    """The admin of BOOTSTRAP_ADMIN_EMAIL/_PASSWORD, made at start-up while no admin exists.

    Idempotent when several workers or instances start at once: the unique email lets exactly
    one insert win, and the others find it taken. An existing account of that email that is not
    an admin is never promoted (whoever registered it chose its password)."""
    email = services.settings.bootstrap_admin_email
    password = services.settings.bootstrap_admin_password
    if email is None or password is None:
        return None
    async with services.db.transaction() as session:
        if await users_repo.count_admins(session) > 0:
            return None
    try:
        user = await create_account(
            services, name="Admin", email=email, password=password, role="admin"
        )
    except AppError as error:
        if error.code is not ErrorCode.EMAIL_EXISTS:
            raise
        async with services.db.transaction() as session:
            holder = await users_repo.get_by_email(session, normalise_email(email))
        if holder is None or holder.role != "admin" or holder.deleted_at is not None:
            log.warning("BOOTSTRAP_ADMIN_EMAIL is taken by an account that is not a live admin")
        return None
    log.info("bootstrap admin created with id %s", user.id)
    return user
