"""The legacy JSON shapes: a user, a token pair, a page of users, an export job."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from persistence.models import ExportJob
from persistence.views import UserView
from resolvers.access import sees_everything
from resolvers.auth import TokenPair
from resolvers.deps import Caller
from resolvers.exports import download_url
from resolvers.users import UserPage
from server.rest.specs import ListUsersQuery


def user_json(user: UserView, caller: Caller) -> dict[str, Any]:
    """A user as legacy clients read it, from a view the resolver redacted for `caller`
    (`resolvers.access`); `deleted_at` is sent to those who may see it, as it always was."""
    data: dict[str, Any] = {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "role": user.role.lower(),
        "is_active": user.is_active,
        "version": user.version,
        "created_at": iso(user.created_at),
        "updated_at": iso(user.updated_at),
        "created_by": user.created_by,
    }
    if sees_everything(caller):
        data["deleted_at"] = iso(user.deleted_at)
    return data


def tokens_json(pair: TokenPair) -> dict[str, Any]:
    return {
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "token_type": pair.token_type,
        "expires_in": pair.expires_in,
    }


def page_json(page: UserPage, query: ListUsersQuery, caller: Caller) -> dict[str, Any]:
    return {
        "items": [user_json(user, caller) for user in page.items],
        "meta": {
            "page": page.page,
            "per_page": page.per_page,
            "total": page.total,
            "pages": page.pages,
            "sort": query.sort,
            "sort_by": query.sort_by,
            "next_cursor": page.next_cursor,
        },
    }


def job_json(job: ExportJob) -> dict[str, Any]:
    return {
        "job_id": job.id,
        "status": job.status,
        "row_count": job.row_count,
        "download_url": download_url(job),
        "error": job.error,
        "created_at": iso(job.created_at),
        "finished_at": iso(job.finished_at),
    }


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with an explicit offset; the database hands back UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()
