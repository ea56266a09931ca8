"""One `Call` per public method: the legacy arguments turned into a document and its variables."""

from __future__ import annotations

from typing import Any

from gql import GraphQLRequest
from graphql import GraphQLError, validate

from client import models
from client import operations as ops
from client.core import Call, packaged_schema
from client.errors import ExportError, NotFound, ValidationError
from client.models import (
    ExportJob,
    Health,
    ListParams,
    TokenPair,
    User,
    UserChanges,
    UserFilterParams,
    UserPage,
)

# The server's page bounds and defaults (its `core/paging.py`, which the SDK cannot import);
# tests/test_paging.py holds this copy equal to them.
FIRST_PAGE = 1
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
DEFAULT_SORT, DEFAULT_SORT_BY = "desc", "created_at"


def _user_or_none(data: dict[str, Any] | None) -> User | None:
    return None if data is None else models.user_from(data)


def _job(data: dict[str, Any] | None) -> ExportJob:
    if data is None:
        raise NotFound("Export job not found")
    return models.job_from(data)


def _true(value: bool) -> bool:
    return bool(value)


def login(email: str, password: str) -> Call[TokenPair]:
    variables = {"email": email, "password": password}
    return Call(ops.LOGIN, variables, "login", models.tokens_from, signed=False)


def refresh(refresh_token: str) -> Call[TokenPair]:
    variables = {"refreshToken": refresh_token}
    return Call(ops.REFRESH, variables, "refresh", models.tokens_from, signed=False)


def register(name: str, email: str, password: str, role: str) -> Call[User]:
    # Signed when a token is stored: an admin may register another admin.
    variables = {
        "input": models.account_input(name=name, email=email, password=password, role=role)
    }
    return Call(ops.REGISTER, variables, "register", models.user_from)


def logout() -> Call[bool]:
    return Call(ops.LOGOUT, {}, "logout", _true)


def logout_all() -> Call[bool]:
    return Call(ops.LOGOUT_ALL, {}, "logoutAll", _true)


def me() -> Call[User]:
    return Call(ops.ME, {}, "me", models.user_from)


def get_user(user_id: int | str) -> Call[User | None]:
    return Call(ops.USER, {"id": str(user_id)}, "user", _user_or_none)


def list_users(params: ListParams) -> Call[UserPage]:
    models.checked(params, ListParams)
    sort, sort_by = params.get("sort", DEFAULT_SORT), params.get("sort_by", DEFAULT_SORT_BY)
    variables = {
        "perPage": params.get("per_page", DEFAULT_PER_PAGE),
        "sort": models.enum_value(sort),
        "sortBy": models.enum_value(sort_by),
        "filter": models.user_filter(params),
    }
    after = params.get("after")
    if after is not None and "page" in params:
        raise TypeError("give page or after, not both")

    def read(data: dict[str, Any]) -> UserPage:
        return models.page_from(data, sort=sort.lower(), sort_by=sort_by.lower())

    if after is not None:
        return Call(ops.USERS_AFTER, {**variables, "after": after}, "users", read)
    return Call(ops.USERS, {**variables, "page": params.get("page", FIRST_PAGE)}, "users", read)


def walk_params(params: ListParams) -> ListParams:
    """Where `iter_users` starts: the most a page holds, by id ascending unless told otherwise. The walk
    follows cursors, so accounts created or deleted meanwhile never shift what is left to read."""
    models.checked(params, ListParams)
    defaults = ListParams(per_page=MAX_PER_PAGE, sort="asc", sort_by="id")
    return ListParams(**{**defaults, **params})


def create_user(name: str, email: str, password: str, role: str) -> Call[User]:
    variables = {
        "input": models.account_input(name=name, email=email, password=password, role=role)
    }
    return Call(ops.CREATE_USER, variables, "createUser", models.user_from)


def update_user(user_id: int | str, changes: UserChanges, *, if_match: str | None) -> Call[User]:
    models.checked(changes, UserChanges)
    variables = {"id": str(user_id), "input": models.update_input(changes), "ifMatch": if_match}
    return Call(ops.UPDATE_USER, variables, "updateUser", models.user_from)


def delete_user(user_id: int | str, *, if_match: str | None) -> Call[bool]:
    variables = {"id": str(user_id), "ifMatch": if_match}
    return Call(ops.DELETE_USER, variables, "deleteUser", _true)


def export_users(params: UserFilterParams) -> Call[ExportJob]:
    models.checked(params, UserFilterParams)
    variables = {"filter": models.user_filter(params)}
    return Call(ops.EXPORT_USERS, variables, "exportUsers", models.job_from)


def export_job(job_id: str) -> Call[ExportJob]:
    return Call(ops.EXPORT_JOB, {"id": job_id}, "exportJob", _job)


def health() -> Call[Health]:
    return Call(ops.HEALTH, {}, "health", models.health_from, signed=False)


def execute(
    document: str, variables: dict[str, Any] | None, operation_name: str | None
) -> Call[dict[str, Any]]:
    """A caller's own document, refused here (VALIDATION_ERROR, nothing sent) when it does not
    parse or fit the packaged schema."""
    try:
        request = GraphQLRequest(document, operation_name=operation_name)
    except GraphQLError as exc:
        raise ValidationError(exc.message, details={"document": [exc.message]}) from exc
    problems = [error.message for error in validate(packaged_schema(), request.document)]
    if problems:
        raise ValidationError(problems[0], details={"document": problems})
    return Call(request, dict(variables or {}), None, dict)


def download_path(job: ExportJob | str) -> str:
    """Where a finished job's CSV is: its `download_url`, or the legacy path for a bare id."""
    if isinstance(job, str):
        return f"/admin/jobs/{job}/download"
    if not job["download_url"]:
        raise ExportError(f"Export {job['job_id']} has no file (status {job['status']})", job=job)
    return job["download_url"]
