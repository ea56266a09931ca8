"""`/users*`: the legacy admin CRUD and `/users/me` over the users resolvers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from core.errors import AppError, ErrorCode
from resolvers import users
from server.rest.auth import me
from server.rest.presenters import page_json
from server.rest.replies import ok, user_reply
from server.rest.routing import Operation, caller_of, services_of
from server.rest.specs import ListUsersQuery, NewAccountBody, PatchUserBody


async def create_user(request: Request, body: NewAccountBody) -> Response:
    user = await users.create_user(services_of(request), caller_of(request), **body.account())
    return user_reply(request, user, status=201)


async def list_users(request: Request, query: ListUsersQuery) -> Response:
    caller = caller_of(request)
    page = await users.list_users(
        services_of(request),
        caller,
        page=query.page,
        per_page=query.per_page,
        query=query.to_query(),
        after=query.after,
    )
    return ok(page_json(page, query, caller))


async def get_user(request: Request) -> Response:
    user = await users.get_user(
        services_of(request), caller_of(request), user_id=request.path_params["user_id"]
    )
    if user is None:
        raise AppError(ErrorCode.USER_NOT_FOUND)
    return user_reply(request, user)


async def update_user(request: Request, body: PatchUserBody) -> Response:
    """PUT and PATCH: `If-Match` (quoted, bare or `*`) is checked before anything is written."""
    user = await users.update_user(
        services_of(request),
        caller_of(request),
        user_id=request.path_params["user_id"],
        changes=body.changes(),
        if_match=request.headers.get("if-match"),
    )
    return user_reply(request, user)


async def delete_user(request: Request) -> Response:
    await users.delete_user(
        services_of(request),
        caller_of(request),
        user_id=request.path_params["user_id"],
        if_match=request.headers.get("if-match"),
    )
    return ok()


_ONE = "/users/{user_id}"
_READ, _WRITE = ("If-None-Match",), ("If-Match",)
# `/users/me` comes before `/users/{user_id}`, which would otherwise capture it.
OPERATIONS = (
    Operation(
        "POST", "/users", create_user, "Create a user", "admin", 201,
        body=NewAccountBody, returns="User", refusals=(409,),
    ),
    Operation(
        "GET", "/users", list_users, "List users", "admin",
        query=ListUsersQuery, returns="UserPage",
    ),
    Operation("GET", "/users/me", me, "The signed-in user", "signed-in", returns="User", headers=_READ),
    Operation("GET", _ONE, get_user, "Fetch a user", "admin", returns="User", headers=_READ),
    Operation(
        "PUT", _ONE, update_user, "Update a user: the fields given, the others kept (as PATCH)",
        "admin", body=PatchUserBody, returns="User", headers=_WRITE,
    ),
    Operation(
        "PATCH", _ONE, update_user, "Change some fields of a user", "admin",
        body=PatchUserBody, returns="User", headers=_WRITE,
    ),
    Operation("DELETE", _ONE, delete_user, "Soft-delete a user", "admin", headers=_WRITE),
)  # fmt: skip
