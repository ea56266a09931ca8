"""`/admin/*`: the users CSV, streamed now or written by a job, and the audit events' CSV job,
over the exports resolvers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from resolvers import exports
from server.rest.presenters import job_json
from server.rest.replies import ok
from server.rest.routing import Operation, caller_of, services_of
from server.rest.specs import AuditFilterSpec, UserFilter

CSV = "text/csv; charset=utf-8"
# The CSV lists users' emails: no cache along the way keeps a copy.
_PRIVATE = {"Cache-Control": "no-store"}


async def export_users(request: Request, query: UserFilter) -> Response:
    """Streamed a batch at a time as it is read; a refusal comes before the first byte."""
    chunks = await exports.stream_users_csv(
        services_of(request), caller_of(request), query=query.to_query()
    )
    disposition = {"Content-Disposition": 'attachment; filename="users.csv"'}
    return StreamingResponse(chunks, media_type=CSV, headers=_PRIVATE | disposition)


async def request_export(request: Request, query: UserFilter) -> Response:
    job = await exports.request_export(
        services_of(request), caller_of(request), query=query.to_query()
    )
    return ok({"job_id": job.id, "status": job.status}, status=202)


async def request_audit_export(request: Request, spec: AuditFilterSpec) -> Response:
    job = await exports.request_audit_export(
        services_of(request), caller_of(request), filter=spec.to_filter()
    )
    return ok({"job_id": job.id, "status": job.status}, status=202)


async def get_job(request: Request) -> Response:
    job = await exports.get_job(
        services_of(request), caller_of(request), job_id=request.path_params["job_id"]
    )
    return ok(job_json(job))


async def download(request: Request) -> Response:
    name, chunks = await exports.job_download(
        services_of(request), caller_of(request), job_id=request.path_params["job_id"]
    )
    # Named after the job id as stored, whatever spelling the path gave.
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    return StreamingResponse(chunks, media_type=CSV, headers=_PRIVATE | disposition)


_EXPORT, _JOB = "/admin/users/export", "/admin/jobs/{job_id}"
_FILTERS = (
    "Filters: `name` and `email` (case-insensitive substrings), `role`, `include_deleted`; "
    "rows in id order."
)
OPERATIONS = (
    Operation(
        "GET", _EXPORT, export_users, "The users CSV, streamed", "admin",
        query=UserFilter, description=_FILTERS, media_type="text/csv", attachment="users.csv",
    ),
    Operation(
        "POST", _EXPORT, request_export, "Start a CSV export job", "admin", 202,
        body=UserFilter, query=UserFilter, returns="ExportAccepted",
        description=f"{_FILTERS} Give them as query parameters (as for GET) or as a JSON "
        "object body, not both; with neither, every user is exported. Poll the job until "
        "it is `finished`, then download its `download_url`.",
    ),
    Operation(
        "POST", "/admin/audit-events/export", request_audit_export,
        "Start a CSV export job of the audit log", "admin", 202,
        body=AuditFilterSpec, query=AuditFilterSpec, returns="ExportAccepted",
        description="Filters: `action`, `actor_id`, `subject_id`, `since`, `until` (ISO 8601 "
        "with a UTC offset, inclusive); events newest first. As a JSON body or query "
        "parameters, not both. Poll `/admin/jobs/{job_id}`, then download its `download_url`.",
    ),
    Operation("GET", _JOB, get_job, "An export job", "admin", returns="ExportJob"),
    Operation(
        "GET", exports.download_path("{job_id}"), download, "A finished job's CSV", "admin",
        description="404 NOT_FOUND until the job is finished, and once its file has expired.",
        media_type="text/csv", attachment="users-{job_id}.csv",
    ),
)  # fmt: skip
