"""Admin user management: `user`, `users`, `createUser`, `updateUser`, `deleteUser`."""

from __future__ import annotations

from typing import Annotated

import strawberry

from core import paging
from persistence.user_listing import UserQuery
from resolvers import users
from resolvers.user_inputs import UserChanges
from schema.context import Info
from schema.enums import Role, SortOrder, UserSortField
from schema.permissions import ADMIN, policy
from schema.users_types import UserType

DEFAULT_SORT = SortOrder(paging.DEFAULT_SORT)
DEFAULT_SORT_BY = UserSortField(paging.DEFAULT_SORT_BY)


async def _page_number(root: PageInfo, info: Info) -> int:
    return await users.locate_page(info.context.services, root._page)


async def _has_previous_page(root: PageInfo, info: Info) -> bool:
    return await users.locate_page(info.context.services, root._page) > 1


async def _total(root: PageInfo, info: Info) -> int:
    return await users.page_total(info.context.services, root._page)


async def _pages(root: PageInfo, info: Info) -> int:
    return users.pages_of(await users.page_total(info.context.services, root._page), root.per_page)


@strawberry.type
class PageInfo:
    page: int = strawberry.field(
        resolver=_page_number,
        description="The page number. Paged by cursor (`after`), the rows before the cursor "
        "are counted for it: a cost that grows with the depth.",
    )
    per_page: int
    total: int = strawberry.field(
        resolver=_total,
        description="Filtered, the matching users are counted for it (only when asked).",
    )
    pages: int = strawberry.field(resolver=_pages, description="Counted as `total` is.")
    has_next_page: bool
    has_previous_page: bool = strawberry.field(
        resolver=_has_previous_page, description="Paged by cursor, found as `page` is."
    )
    end_cursor: str | None = strawberry.field(
        description="Pass as `after` for the page that follows; null on an empty page."
    )
    _page: strawberry.Private[users.UserPage]  # counts its page number once for both fields


@strawberry.type
class UserPage:
    items: list[UserType]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: users.UserPage) -> UserPage:
        info = PageInfo(
            per_page=page.per_page,
            has_next_page=page.has_next_page,
            end_cursor=page.end_cursor,
            _page=page,
        )
        return cls(items=[UserType.from_view(row) for row in page.items], page_info=info)


@strawberry.input
class UserFilter:
    name: str | None = None
    email: str | None = None
    role: Role | None = None
    include_deleted: bool | None = False

    def to_query(self, sort: SortOrder, sort_by: UserSortField) -> UserQuery:
        return UserQuery(
            name=self.name,
            email=self.email,
            role=self.role.value if self.role else None,
            include_deleted=bool(self.include_deleted),
            sort_by=sort_by.value,
            descending=sort is SortOrder.DESC,
        )


@strawberry.input
class CreateUserInput:
    name: str
    email: str
    password: str
    role: Role | None = Role.USER
    send_verification_email: bool = strawberry.field(
        default=True, description="Mail the new account a link to verify its address."
    )


@strawberry.input
class UpdateUserInput:
    name: str | None = None
    email: str | None = None
    password: str | None = None
    role: Role | None = None
    is_active: bool | None = None

    def to_changes(self) -> UserChanges:
        return UserChanges(
            name=self.name,
            email=self.email,
            password=self.password,
            role=self.role.value if self.role else None,
            is_active=self.is_active,
        )


@strawberry.type
class UsersQuery:
    @strawberry.field(
        extensions=policy(ADMIN), description="A live user; null when absent or deleted."
    )
    async def user(self, info: Info, id: strawberry.ID) -> UserType | None:
        row = await users.get_user(info.context.services, info.context.caller, user_id=id)
        return UserType.from_view(row) if row is not None else None

    @strawberry.field(extensions=policy(ADMIN), description="A page of users.")
    async def users(
        self,
        info: Info,
        page: int | None = paging.FIRST_PAGE,
        per_page: int | None = paging.DEFAULT_PER_PAGE,
        sort: SortOrder | None = DEFAULT_SORT,
        sort_by: UserSortField | None = DEFAULT_SORT_BY,
        filter: UserFilter | None = strawberry.UNSET,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="A previous page's `pageInfo.endCursor`: the `perPage` users "
                "after it, as fast at any depth (instead of `page`)."
            ),
        ] = None,
    ) -> UserPage:
        query = (filter or UserFilter()).to_query(sort or DEFAULT_SORT, sort_by or DEFAULT_SORT_BY)
        result = await users.list_users(
            info.context.services,
            info.context.caller,
            page=paging.FIRST_PAGE if page is None else page,
            per_page=paging.DEFAULT_PER_PAGE if per_page is None else per_page,
            query=query,
            after=after,
            counted=False,  # a filtered total is counted only if a field asks (PageInfo.total)
        )
        return UserPage.from_page(result)


@strawberry.type
class UsersMutation:
    @strawberry.mutation(extensions=policy(ADMIN), description="Create an account.")
    async def create_user(self, info: Info, input: CreateUserInput) -> UserType:
        row = await users.create_user(
            info.context.services,
            info.context.caller,
            name=input.name,
            email=input.email,
            password=input.password,
            role=(input.role or Role.USER).value,
            send_verification=input.send_verification_email,
        )
        return UserType.from_view(row)

    @strawberry.mutation(
        extensions=policy(ADMIN), description="Change an account; a stale ifMatch writes nothing."
    )
    async def update_user(
        self, info: Info, id: strawberry.ID, input: UpdateUserInput, if_match: str | None = None
    ) -> UserType:
        row = await users.update_user(
            info.context.services,
            info.context.caller,
            user_id=id,
            changes=input.to_changes(),
            if_match=if_match,
        )
        return UserType.from_view(row)

    @strawberry.mutation(extensions=policy(ADMIN), description="Soft-delete an account.")
    async def delete_user(self, info: Info, id: strawberry.ID, if_match: str | None = None) -> bool:
        return await users.delete_user(
            info.context.services, info.context.caller, user_id=id, if_match=if_match
        )
