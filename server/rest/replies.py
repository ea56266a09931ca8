"""Legacy answers: the envelope, and users with their `ETag` (conditional GET included)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from core.etags import etag_listed
from persistence.views import UserView
from server.responses import JSONResponse, envelope
from server.rest.presenters import user_json
from server.rest.routing import caller_of


def ok(data: Any = None, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(envelope(data), status_code=status, headers=headers)


def user_reply(request: Request, user: UserView, status: int = 200) -> Response:
    """A user and its ETag; a GET whose `If-None-Match` names that ETag gets 304 and no body."""
    headers = {"ETag": user.etag}
    if request.method in ("GET", "HEAD") and etag_listed(
        request.headers.get("if-none-match"), user.etag
    ):
        return Response(status_code=304, headers=headers)
    return ok(user_json(user, caller_of(request)), status, headers)
