"""the account lifecycle: verified emails, last login, session details, e-mailed tokens, mails

Revision ID: 0007_account_lifecycle
Revises: 0005

Self-contained (adds only its own columns and tables), so it can be re-chained after another
revision. Existing accounts start unverified (`email_verified` false): nothing changes for them
while REQUIRE_VERIFIED_EMAIL stays false (its default).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import persistence.models

revision: str = "0007_account_lifecycle"
down_revision: str | None = "0006_export_chunks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Plain ADD COLUMN, never a batch: on SQLite a batch recreates the table from its
    # reflection, which loses the NOCASE collation of `users.name`.
    op.add_column(
        "users",
        sa.Column("email_verified", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("users", sa.Column("last_login_at", persistence.models.UTCDateTime()))
    op.add_column("auth_sessions", sa.Column("last_used_at", persistence.models.UTCDateTime()))
    op.add_column("auth_sessions", sa.Column("ip_address", sa.String(length=45)))
    op.add_column("auth_sessions", sa.Column("user_agent", sa.String(length=255)))
    op.add_column("auth_sessions", sa.Column("previous_refresh_jti", sa.String(length=64)))
    _create_account_tokens()
    _create_outgoing_mails()


def _create_account_tokens() -> None:
    op.create_table(
        "account_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created_at", persistence.models.UTCDateTime(), nullable=False),
        sa.Column("expires_at", persistence.models.UTCDateTime(), nullable=False),
        sa.Column("used_at", persistence.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_account_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_account_tokens")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    with op.batch_alter_table("account_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_account_tokens_user_id_purpose", ["user_id", "purpose"])


def _create_outgoing_mails() -> None:
    op.create_table(
        "outgoing_mails",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("user_id", BigId, nullable=True),
        sa.Column("created_at", persistence.models.UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("enqueued_at", persistence.models.UTCDateTime(), nullable=True),
        sa.Column("not_before", persistence.models.UTCDateTime(), nullable=True),
        sa.Column("sent_at", persistence.models.UTCDateTime(), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_outgoing_mails_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_mails")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    with op.batch_alter_table("outgoing_mails", schema=None) as batch_op:
        batch_op.create_index("ix_outgoing_mails_sent_at_not_before", ["sent_at", "not_before"])


def downgrade() -> None:
    op.drop_table("outgoing_mails")
    op.drop_table("account_tokens")
    for column in ("previous_refresh_jti", "user_agent", "ip_address", "last_used_at"):
        _drop_column("auth_sessions", column)
    for column in ("last_login_at", "email_verified"):
        _drop_column("users", column)


def _drop_column(table: str, column: str) -> None:
    """SQLite (3.35+) drops a column in place; a batch would recreate the table (see upgrade)."""
    if op.get_context().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")  # our own names
    else:
        op.drop_column(table, column)
