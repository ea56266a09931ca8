"""users: live users in the default order, covered by one index

Revision ID: 0004
Revises: 0003

"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # (deleted_at) is a prefix of the new index: it serves the same lookups.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(
            "ix_users_deleted_at_created_at_id", ["deleted_at", "created_at", "id"], unique=False
        )
        batch_op.drop_index("ix_users_deleted_at")


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index("ix_users_deleted_at", ["deleted_at"], unique=False)
        batch_op.drop_index("ix_users_deleted_at_created_at_id")
