"""the TOTP second factor: users.mfa_enabled, TOTP factors, recovery codes, login tickets

Revision ID: 0009_totp
Revises: 0007_account_lifecycle

Self-contained (adds only its own column and tables), so it can be re-chained after another
revision. Existing accounts start without a second factor and sign in exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import persistence.models

revision: str = "0009_totp"
down_revision: str | None = "0008_audit_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Moment = persistence.models.UTCDateTime
_TABLE: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


def _owner(table: str, *, primary: bool = False) -> list[Any]:
    """`user_id`, a foreign key to users that cascades on delete."""
    return [
        sa.Column("user_id", BigId, nullable=False, primary_key=primary),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
        ),
    ]


def upgrade() -> None:
    # Plain ADD COLUMN, never a batch: on SQLite a batch recreates the table from its
    # reflection, which loses the NOCASE collation of `users.name` (as 0007 explains).
    op.add_column(
        "users", sa.Column("mfa_enabled", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.create_table(
        "totp_factors",
        *_owner("totp_factors", primary=True),
        sa.Column("secret_sealed", sa.String(length=255), nullable=False),
        sa.Column("created_at", Moment(), nullable=False),
        sa.Column("confirmed_at", Moment(), nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_totp_factors")),
        **_TABLE,
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        *_owner("recovery_codes"),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", Moment(), nullable=False),
        sa.Column("used_at", Moment(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        **_TABLE,
    )
    op.create_index(
        "ix_recovery_codes_user_id_code_hash",
        "recovery_codes",
        ["user_id", "code_hash"],
        unique=True,
    )
    op.create_table(
        "mfa_tickets",
        sa.Column("ticket_hash", sa.String(length=64), nullable=False),
        *_owner("mfa_tickets"),
        sa.Column("token_version", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", Moment(), nullable=False),
        sa.Column("expires_at", Moment(), nullable=False),
        sa.Column("used_at", Moment(), nullable=True),
        sa.PrimaryKeyConstraint("ticket_hash", name=op.f("pk_mfa_tickets")),
        **_TABLE,
    )
    op.create_index("ix_mfa_tickets_user_id", "mfa_tickets", ["user_id"])


def downgrade() -> None:
    op.drop_table("mfa_tickets")
    op.drop_table("recovery_codes")
    op.drop_table("totp_factors")
    # SQLite (3.35+) drops a column in place; a batch would recreate the table (see upgrade).
    if op.get_context().dialect.name == "sqlite":
        op.execute("ALTER TABLE users DROP COLUMN mfa_enabled")
    else:
        op.drop_column("users", "mfa_enabled")
