"""RBAC declared on fields: each policy is a permission class printed as a schema directive.

Every root field carries exactly one of `@public`, `@signedIn` or `@hasRole(role: …)`; a test
walks the schema and fails when a field has none (deny by default).
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema_directive import Location

from resolvers.access import require_admin
from schema.context import Info
from schema.enums import Role
from schema.observability import TimedRootField


@strawberry.schema_directive(locations=[Location.FIELD_DEFINITION], name="public")
class PublicDirective:
    """Anyone may call this field, signed in or not."""


@strawberry.schema_directive(locations=[Location.FIELD_DEFINITION], name="signedIn")
class SignedInDirective:
    """Any signed-in user may call this field."""


@strawberry.schema_directive(locations=[Location.FIELD_DEFINITION], name="hasRole")
class HasRoleDirective:
    role: Role


class Public(BasePermission):
    _schema_directive = PublicDirective()

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return True


class SignedIn(BasePermission):
    _schema_directive = SignedInDirective()

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        info.context.caller.require_principal()  # raises the token's own error code
        return True


class IsAdmin(BasePermission):
    _schema_directive = HasRoleDirective(role=Role.ADMIN)

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        require_admin(info.context.caller)
        return True


def policy(permission: BasePermission) -> list[FieldExtension]:
    """The field extensions of a root field: enforce `permission` (printed as its directive)
    and time the resolver."""
    return [PermissionExtension(permissions=[permission], use_directives=True), TimedRootField()]


PUBLIC = Public()
SIGNED_IN = SignedIn()
ADMIN = IsAdmin()
