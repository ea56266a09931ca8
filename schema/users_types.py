"""The `User` type: plain fields from the read model, `createdBy` through the request's loader.

The views come from the resolvers already as the caller may see them (`resolvers.access`):
a hidden `deletedAt` or `createdBy` is None there, so this type shows what it is given.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from persistence.views import UserView
from schema.compiled.related import Loader, Related, loads_related
from schema.context import Context, Info
from schema.enums import Role


def related_user_by(id_attr: str) -> Related:
    """What a resolver calling `related_user(info, self.<id_attr>)` does, for the compiled
    executor to do it from the plan (`schema.compiled.related`)."""
    return Related(id_attr=id_attr, loader=_user_loader, build=_user)


def _user_loader(context: Context) -> Loader:
    return context.loaders.user_by_id


def _user(view: UserView) -> UserType:
    return UserType.from_view(view)


_ROLES = {role.value: role for role in Role}  # a dict read, not the enum's lookup, per user


@strawberry.type(name="User")
class UserType:
    id: strawberry.ID
    name: str
    email: str
    role: Role
    is_active: bool
    version: int
    etag: str
    created_at: datetime
    updated_at: datetime
    email_verified: bool
    last_login_at: datetime | None
    mfa_enabled: bool
    created_by_id: strawberry.Private[int | None]
    deleted_at: datetime | None = strawberry.field(
        description="Admins only; null for everybody else."
    )

    @classmethod
    def from_view(cls, view: UserView) -> UserType:
        return cls(
            id=strawberry.ID(str(view.id)),
            name=view.name,
            email=view.email,
            role=_ROLES.get(view.role) or Role(view.role),
            is_active=view.is_active,
            version=view.version,
            etag=view.etag,
            created_at=view.created_at,
            updated_at=view.updated_at,
            email_verified=view.email_verified,
            last_login_at=view.last_login_at,
            mfa_enabled=view.mfa_enabled,
            deleted_at=view.deleted_at,
            created_by_id=view.created_by,
        )

    @strawberry.field(description="Who created this account; admins, or its creator, see it.")
    @loads_related(related_user_by("created_by_id"))
    async def created_by(self, info: Info) -> UserType | None:
        return await related_user(info, self.created_by_id)


async def related_user(info: Info, user_id: int | None) -> UserType | None:
    """A user another object points to, through the request's loader (as the caller may see
    it); None when it points to none."""
    if user_id is None:
        return None
    view = await _user_loader(info.context).load(user_id)
    return _user(view) if view is not None else None
