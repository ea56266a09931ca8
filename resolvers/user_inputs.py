"""What the users use cases accept: ids, etags, changes and listing bounds, checked."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from core import etags, paging, rbac
from core.errors import AppError, ErrorCode, Problems
from core.validation import check_email, check_name, check_password, choice_message, normalise_email
from persistence.user_listing import UserQuery
from resolvers.deps import Services


@dataclass(frozen=True, slots=True)
class UserChanges:
    """The fields an admin may change; None leaves a field as it is."""

    name: str | None = None
    email: str | None = None
    password: str | None = None
    role: str | None = None
    is_active: bool | None = None


def parse_user_id(raw: str | int) -> int:
    text = str(raw).strip()
    if not text.isdigit() or len(text) > 18:
        raise AppError(ErrorCode.VALIDATION_ERROR, "Invalid input", {"id": ["Not a valid id"]})
    return int(text)


def parse_if_match(if_match: str | None, user_id: int) -> int | None:
    """The version an `If-Match` value allows for `user_id`: quoted or bare etag, `*` (any),
    or None (no condition). An etag of another user never matches (`etags.STALE`)."""
    if if_match is None:
        return None
    try:
        return etags.version_named(if_match, user_id)
    except ValueError:
        raise AppError(
            ErrorCode.VALIDATION_ERROR,
            "Invalid input",
            {"ifMatch": ["Not an etag of this resource"]},
        ) from None


def check_listing(page: int, per_page: int, after: str | None, query: UserQuery) -> None:
    """The bounds of `core.paging`, under the GraphQL argument names."""
    problems = Problems()
    if message := paging.bound_message(page, paging.FIRST_PAGE):
        problems.add("page", message)
    if after is not None and page != paging.FIRST_PAGE:
        problems.add("page", paging.BOTH_PAGE_AND_CURSOR)
    if message := paging.bound_message(per_page, paging.MIN_PER_PAGE, paging.MAX_PER_PAGE):
        problems.add("perPage", message)
    if query.sort_by not in paging.SORT_FIELDS:
        problems.add("sortBy", choice_message(paging.SORT_FIELDS))
    problems.raise_if_any()


async def validated_values(services: Services, changes: UserChanges) -> dict[str, Any]:
    problems = Problems()
    values: dict[str, Any] = {}
    if changes.name is not None:
        check_name(problems, changes.name)
        values["name"] = changes.name.strip()
    if changes.email is not None:
        values["email"] = normalise_email(changes.email)
        check_email(problems, values["email"])
    if changes.password is not None:
        check_password(problems, services.hasher, changes.password)
    if changes.role is not None:
        if changes.role not in rbac.ROLES:
            problems.add("role", choice_message(rbac.ROLES))
        values["role"] = changes.role
    if changes.is_active is not None:
        values["is_active"] = changes.is_active
    problems.raise_if_any()
    if changes.password is not None:
        values["password_hash"] = await asyncio.to_thread(services.hasher.hash, changes.password)
    values["updated_at"] = services.clock.now()
    return values


def check_role(role: str) -> None:
    if role not in rbac.ROLES:
        raise AppError(
            ErrorCode.VALIDATION_ERROR,
            "Invalid input",
            {"role": [choice_message(rbac.ROLES)]},
        )
