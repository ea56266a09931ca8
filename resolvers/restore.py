"""`restoreUser`: an admin undoes a soft delete."""

from __future__ import annotations

from sqlalchemy import select, update

from core.audit import AuditAction
from core.errors import AppError, ErrorCode
from persistence import users as users_repo
from persistence.models import User
from persistence.views import UserView
from resolvers.access import require_admin, shown_to
from resolvers.audit_log import record
from resolvers.deps import Caller, Services
from resolvers.user_inputs import parse_user_id


async def restore_user(services: Services, caller: Caller, *, user_id: str | int) -> UserView:
    """Bring a deleted account back as it was (its sessions stay ended); a live account is
    answered as it is. Another live account holding its email is EMAIL_EXISTS."""
    require_admin(caller)
    target = parse_user_id(user_id)
    now = services.clock.now()
    async with services.db.transaction() as session:
        # Locked: of two restores at once, the second waits and then finds the account live
        # (read from its snapshot, it would restore nothing and find no live row to answer).
        user = await users_repo.get(session, target, include_deleted=True, locked=True)
        if user is None:
            raise AppError(ErrorCode.USER_NOT_FOUND)
        if user.deleted_at is None:
            return shown_to(caller, UserView.of(user))
        holder = await session.scalar(
            select(User.id).where(
                User.email == user.email, User.id != user.id, User.deleted_at.is_(None)
            )
        )
        if holder is not None:
            raise AppError(ErrorCode.EMAIL_EXISTS)
        await session.execute(
            update(User)
            .where(User.id == target, User.deleted_at.is_not(None))
            .values(deleted_at=None, updated_at=now, version=User.version + 1)
            .execution_options(synchronize_session=False)
        )
        restored = await users_repo.get(session, target)
        await record(session, caller, AuditAction.USER_RESTORED, subject_id=target, at=now)
    await services.users.invalidate()
    assert restored is not None
    return shown_to(caller, UserView.of(restored))
