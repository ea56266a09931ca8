"""Who may do and see what: the admin gate of the admin operations, the credential operations
an API key may not call, and which user fields a caller may see. Both transports answer with
what these return, so the rule is written once."""

from __future__ import annotations

from core.errors import AppError, ErrorCode
from persistence.views import UserView
from resolvers.audit import security_event
from resolvers.deps import Caller, Principal


def require_admin(caller: Caller) -> Principal:
    """The caller's principal if it holds the admin role; FORBIDDEN (and logged) otherwise."""
    principal = caller.require_principal()
    if not principal.is_admin:
        security_event(caller, "forbidden", action="admin")
        raise AppError(ErrorCode.FORBIDDEN, "Admin role required")
    return principal


def forbid_api_key(caller: Caller) -> Principal:
    """The caller's principal unless it signed in with an API key: a key cannot manage
    credentials (password, e-mail, second factor, API keys, sessions; contract section 6), so
    a leaked key cannot be turned into a lasting hold on the account. FORBIDDEN otherwise."""
    principal = caller.require_principal()
    if principal.api_key_id is not None:
        security_event(caller, "forbidden", action="credentials-with-api-key")
        raise AppError(ErrorCode.FORBIDDEN, "An API key cannot manage credentials")
    return principal


def sees_everything(caller: Caller) -> bool:
    """Admins see every field of every user, `deletedAt` included (REST sends `deleted_at` to
    them only; GraphQL answers null to the others)."""
    return caller.principal is not None and caller.principal.is_admin


def shown_to(caller: Caller, user: UserView) -> UserView:
    """`user` as `caller` may see it: `deletedAt` to admins only, `createdBy` to admins and to
    the account's creator; a hidden field is None."""
    if sees_everything(caller):
        return user
    principal = caller.principal
    creator = principal is not None and principal.user_id == user.created_by
    return user.redacted(deleted_at=True, created_by=not creator)


def all_shown_to(caller: Caller, users: list[UserView]) -> list[UserView]:
    """`shown_to` for a page: an admin's page is handed back as it is, at no cost per row."""
    if sees_everything(caller):
        return users
    return [shown_to(caller, user) for user in users]
