"""The users use cases: read, list, create, update and soft-delete accounts."""

from __future__ import annotations

from core.errors import AppError, ErrorCode
from persistence import users as users_repo
from persistence.models import User
from resolvers.deps import Caller, Services


async def get_me(services: Services, caller: Caller) -> User:
    """The signed-in user's own account."""
    principal = caller.require_principal()
    async with services.db.transaction() as session:
        user = await users_repo.get(session, principal.user_id)
    if user is None:  # deleted between authentication and now
        raise AppError(ErrorCode.TOKEN_REVOKED)
    return user
