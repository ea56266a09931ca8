"""The `User` type: plain fields from the row, `createdBy` through the request's loader."""

from __future__ import annotations

from datetime import datetime

import strawberry

from persistence.models import User as UserRow
from schema.context import Info
from schema.enums import Role


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
    created_by_id: strawberry.Private[int | None]
    deleted_at_value: strawberry.Private[datetime | None]

    @classmethod
    def from_row(cls, row: UserRow) -> UserType:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            email=row.email,
            role=Role(row.role),
            is_active=row.is_active,
            version=row.version,
            etag=row.etag,
            created_at=row.created_at,
            updated_at=row.updated_at,
            email_verified=row.email_verified,
            last_login_at=row.last_login_at,
            created_by_id=row.created_by,
            deleted_at_value=row.deleted_at,
        )

    @strawberry.field(description="Admins only; null for everybody else.")
    def deleted_at(self, info: Info) -> datetime | None:
        principal = info.context.caller.principal
        return self.deleted_at_value if principal is not None and principal.is_admin else None

    @strawberry.field(description="Who created this account; admins, or the user themselves.")
    async def created_by(self, info: Info) -> UserType | None:
        principal = info.context.caller.principal
        if self.created_by_id is None or principal is None:
            return None
        if not principal.is_admin and principal.user_id != self.created_by_id:
            return None
        row: UserRow | None = await info.context.loaders.user_by_id.load(self.created_by_id)
        return UserType.from_row(row) if row is not None else None
