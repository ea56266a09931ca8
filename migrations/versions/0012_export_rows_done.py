"""export rows done: how many rows a running export has written (live progress, polling)

Revision ID: 0012_export_rows_done
Revises: 0007_account_lifecycle

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_export_rows_done"
down_revision: str | None = "0011_live_user_count"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch: on SQLite a batch recreates the table from its reflection).
    op.add_column(
        "export_jobs",
        sa.Column("rows_done", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":  # 3.35+ drops a column in place
        op.execute("ALTER TABLE export_jobs DROP COLUMN rows_done")
    else:
        op.drop_column("export_jobs", "rows_done")
