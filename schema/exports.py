"""Admin CSV exports as jobs: `exportUsers` starts one, `exportJob` reports on it (once, or
live as a subscription)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry

from persistence.models import ExportJob as ExportJobRow
from resolvers import exports
from resolvers.export_progress import follow_export
from schema.compiled.related import loads_related
from schema.context import Info
from schema.enums import JobStatus, SortOrder, UserSortField
from schema.permissions import ADMIN, policy
from schema.users import UserFilter
from schema.users_types import UserType, related_user, related_user_by


@strawberry.type(name="ExportJob")
class ExportJobType:
    id: strawberry.ID
    status: JobStatus
    row_count: int | None
    rows_done: int = strawberry.field(description="Rows written so far; rowCount once finished.")
    download_url: str | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    requested_by_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: ExportJobRow) -> ExportJobType:
        return cls(
            id=strawberry.ID(row.id),
            status=JobStatus(row.status),
            row_count=row.row_count,
            rows_done=row.rows_done or 0,
            download_url=exports.download_url(row),
            error=row.error,
            created_at=row.created_at,
            finished_at=row.finished_at,
            requested_by_id=row.requested_by,
        )

    @strawberry.field(description="The admin who asked for the export.")
    @loads_related(related_user_by("requested_by_id"))
    async def requested_by(self, info: Info) -> UserType | None:
        return await related_user(info, self.requested_by_id)


@strawberry.type
class ExportsQuery:
    @strawberry.field(extensions=policy(ADMIN), description="An export job; NOT_FOUND if unknown.")
    async def export_job(self, info: Info, id: strawberry.ID) -> ExportJobType | None:
        row = await exports.get_job(info.context.services, info.context.caller, job_id=id)
        return ExportJobType.from_row(row)


@strawberry.type
class ExportsMutation:
    @strawberry.mutation(
        extensions=policy(ADMIN), description="Start a CSV export of the users matching the filter."
    )
    async def export_users(
        self, info: Info, filter: UserFilter | None = strawberry.UNSET
    ) -> ExportJobType:
        query = (filter or UserFilter()).to_query(SortOrder.ASC, UserSortField.ID)
        row = await exports.request_export(info.context.services, info.context.caller, query=query)
        return ExportJobType.from_row(row)


@strawberry.type
class ExportsSubscription:
    @strawberry.subscription(
        extensions=policy(ADMIN),
        description="The job as it is, then on every status change and as rows are written; "
        "ends after FINISHED or FAILED.",
    )
    async def export_job(self, info: Info, id: strawberry.ID) -> AsyncGenerator[ExportJobType]:
        context = info.context
        async for row in follow_export(context.services, context.caller, job_id=id):
            yield ExportJobType.from_row(row)
