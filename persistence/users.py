"""The users repository: every query the service runs on the users table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import User


async def get_many(session: AsyncSession, ids: Iterable[int]) -> dict[int, User]:
    """Users by id in one SELECT (dataloaders batch through this); deleted ones included."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await session.scalars(select(User).where(User.id.in_(wanted)))
    return {user.id: user for user in rows}


async def get(session: AsyncSession, user_id: int, *, include_deleted: bool = False) -> User | None:
    query = select(User).where(User.id == user_id)
    if not include_deleted:
        query = query.where(User.deleted_at.is_(None))
    return (await session.scalars(query)).first()


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    """The account holding an email, deleted or not (a deleted user's email stays reserved)."""
    return (await session.scalars(select(User).where(User.email == email))).first()


async def count_admins(session: AsyncSession) -> int:
    rows: Sequence[int] = (
        await session.scalars(
            select(User.id).where(User.role == "admin", User.deleted_at.is_(None))
        )
    ).all()
    return len(rows)


async def set_password_hash(session: AsyncSession, user_id: int, password_hash: str) -> None:
    """A rehash on login: same password, new parameters; not a user-visible write."""
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(password_hash=password_hash)
        .execution_options(synchronize_session=False)
    )


async def bump_token_version(session: AsyncSession, user_id: int) -> None:
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(token_version=User.token_version + 1)
        .execution_options(synchronize_session=False)
    )
