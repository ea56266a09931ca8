"""export jobs

Revision ID: 0003
Revises: 0002

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import persistence.models

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "export_jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("filter_json", sa.String(length=2000), nullable=False),
        sa.Column(
            "requested_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.String(length=100), nullable=True),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.Column("created_at", persistence.models.UTCDateTime(), nullable=False),
        sa.Column("enqueued_at", persistence.models.UTCDateTime(), nullable=True),
        sa.Column("not_before", persistence.models.UTCDateTime(), nullable=True),
        sa.Column("started_at", persistence.models.UTCDateTime(), nullable=True),
        sa.Column("heartbeat_at", persistence.models.UTCDateTime(), nullable=True),
        sa.Column("finished_at", persistence.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["users.id"],
            name=op.f("fk_export_jobs_requested_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_jobs")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    with op.batch_alter_table("export_jobs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_export_jobs_status_not_before", ["status", "not_before"], unique=False
        )


def downgrade() -> None:
    # Dropping the table drops its indexes; dropping an index first fails on MySQL when a
    # foreign key needs it.
    op.drop_table("export_jobs")
