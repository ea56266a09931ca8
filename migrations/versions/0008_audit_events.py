"""the audit log: `audit_events`, and the kind of an export job (users or audit events)

Revision ID: 0008_audit_events
Revises: 0007_account_lifecycle

Self-contained (adds only its own table and column), so it can be re-chained after another
revision. Existing export jobs are `users` exports.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import persistence.models

revision: str = "0008_audit_events"
down_revision: str | None = "0007_account_lifecycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
INDEXES = {
    "ix_audit_events_at_id": ["at", "id"],
    "ix_audit_events_action_at_id": ["action", "at", "id"],
    "ix_audit_events_actor_id_at_id": ["actor_id", "at", "id"],
    "ix_audit_events_subject_id_at_id": ["subject_id", "at", "id"],
}


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("at", persistence.models.UTCDateTime(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("actor_id", BigId, nullable=True),
        sa.Column("subject_id", BigId, nullable=True),
        sa.Column("ip_address", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=255), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    for name, columns in INDEXES.items():
        op.create_index(name, "audit_events", columns)
    # Plain ADD COLUMN, never a batch (a batch recreates the table on SQLite; see 0007).
    op.add_column(
        "export_jobs",
        sa.Column("kind", sa.String(length=16), nullable=False, server_default="users"),
    )


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute("ALTER TABLE export_jobs DROP COLUMN kind")  # SQLite 3.35+, in place
    else:
        op.drop_column("export_jobs", "kind")
    op.drop_table("audit_events")
