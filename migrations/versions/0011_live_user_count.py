"""the live users count: a few counter rows kept exact by triggers on users

Revision ID: 0011_live_user_count
Revises: 0007_account_lifecycle

An unfiltered users total is `SELECT SUM(live) FROM live_user_counts` instead of a count(*) of
every live row (0.15-0.35 s of MariaDB at a million users). Triggers keep it exact in the same
transaction as the write that changes it, whatever makes the write: an insert, a soft delete, a
restore, a hard delete, a bulk import or a hand-written fix. A user lands on the row `id % SLOTS`,
so concurrent sign-ups (consecutive ids) update different rows instead of queueing on one lock
(bench/README.md, "Totals at a million rows").

Creating the triggers needs MySQL's TRIGGER privilege and, with binary logging on, SUPER or
`log_bin_trust_function_creators=1` (README, *Totals*).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_live_user_count"
down_revision: str | None = "0010_api_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLOTS = 8
TRIGGERS = ("users_live_count_insert", "users_live_count_update", "users_live_count_delete")


def upgrade() -> None:
    op.create_table(
        "live_user_counts",
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("live", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("slot", name=op.f("pk_live_user_counts")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    # The triggers first, then the count from the table. MySQL's DDL is not transactional: a
    # sign-up committed while this runs may be missed, so migrate before the new version
    # starts, with writes stopped (docs/scaling.md, `migrate`).
    for statement in trigger_ddl(op.get_context().dialect.name, SLOTS):
        op.execute(statement)
    op.execute(
        "INSERT INTO live_user_counts (slot, live) "  # noqa: S608 - our names, an int constant
        "SELECT slots.slot, COALESCE(SUM(CASE WHEN users.id IS NULL THEN 0 ELSE 1 END), 0) "
        f"FROM ({_slots_select(SLOTS)}) AS slots "
        f"LEFT JOIN users ON users.id % {SLOTS} = slots.slot AND users.deleted_at IS NULL "
        "GROUP BY slots.slot"
    )


def downgrade() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("live_user_counts")


def _slots_select(slots: int) -> str:
    return " UNION ALL ".join(f"SELECT {slot} AS slot" for slot in range(slots))


def trigger_ddl(dialect: str, slots: int) -> list[str]:
    """The three triggers (insert, update of `deleted_at`, delete) for `dialect`, over `slots`
    counter rows; bench/live_count.py builds them with other slot counts to measure the lock."""
    # Only our own names and an int go into these statements.
    live = "UPDATE live_user_counts SET live = live {sign} 1 WHERE slot = {row}.id % " + str(slots)  # noqa: S608
    became = "(NEW.deleted_at IS NULL) <> (OLD.deleted_at IS NULL)"
    insert, delete = "NEW.deleted_at IS NULL", "OLD.deleted_at IS NULL"
    update = (
        "UPDATE live_user_counts SET live = live + "  # noqa: S608
        "(CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END) "
        f"WHERE slot = NEW.id % {slots}"
    )
    bodies = [
        ("INSERT", insert, live.format(sign="+", row="NEW")),
        ("UPDATE", became, update),
        ("DELETE", delete, live.format(sign="-", row="OLD")),
    ]
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {name} AFTER {event} ON users FOR EACH ROW WHEN {when} "
            f"BEGIN {body}; END"
            for name, (event, when, body) in zip(TRIGGERS, bodies, strict=True)
        ]
    return [  # MySQL has no WHEN clause: the condition is an IF, so other updates lock nothing
        f"CREATE TRIGGER {name} AFTER {event} ON users FOR EACH ROW "
        f"BEGIN IF {when} THEN {body}; END IF; END"
        for name, (event, when, body) in zip(TRIGGERS, bodies, strict=True)
    ]
