"""users: one identity per email (normalised, compared byte for byte)

Revision ID: 0005
Revises: 0004

Existing emails are rewritten as `core.validation.normalise_email` gives them (trimmed, NFKC,
case-folded), and MySQL compares the column with utf8mb4_bin instead of utf8mb4_unicode_ci
(SQLite already compares it BINARY). Accounts whose emails become the same are not merged: the
migration stops before changing anything and names them, for an operator to decide.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence

import sqlalchemy as sa
from alembic import op

# The app's own function on purpose: stored emails must be exactly what sign-in looks up.
from core.validation import normalise_email

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

USERS = sa.table("users", sa.column("id", sa.BigInteger()), sa.column("email", sa.String(254)))


MAX_LISTED = 50  # groups named in the message (one line: `manage.py migrate` prints one)


class EmailCollision(RuntimeError):
    """Two or more accounts would hold the same email: nothing was changed."""


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(USERS.c.id, USERS.c.email).order_by(USERS.c.id)).all()
    _stop_on_collisions([(row.id, row.email, normalise_email(row.email)) for row in rows])
    if bind.dialect.name == "mysql":  # before the rewrite: unicode_ci could see new duplicates
        _email_collation("utf8mb4_bin")
    for row in rows:
        normalised = normalise_email(row.email)
        if normalised != row.email:
            bind.execute(USERS.update().where(USERS.c.id == row.id).values(email=normalised))


def downgrade() -> None:
    """Back to utf8mb4_unicode_ci on MySQL; emails stay normalised (the old code reads them)."""
    bind = op.get_bind()
    if bind.dialect.name != "mysql":
        return
    # Accounts the old collation takes for one (`jürgen@` and `jurgen@`) would break its
    # unique key: grouped by that collation's own sort weights, and named.
    rows = bind.execute(
        sa.text(
            "SELECT id, email, WEIGHT_STRING(email COLLATE utf8mb4_unicode_ci) AS weight "
            "FROM users ORDER BY id"
        )
    ).all()
    _stop_on_collisions(
        [(row.id, row.email, row.weight) for row in rows], "utf8mb4_unicode_ci takes for one"
    )
    _email_collation("utf8mb4_unicode_ci")


def _email_collation(collation: str) -> None:
    op.alter_column(
        "users",
        "email",
        existing_type=sa.String(254),
        type_=sa.String(254, collation=collation),
        existing_nullable=False,
    )


def _stop_on_collisions(
    accounts: list[tuple[int, str, Hashable]], what: str = "would share one email once normalised"
) -> None:
    """`accounts` are (id, email, what the email compares as); one line names each group."""
    groups: dict[Hashable, list[tuple[int, str]]] = defaultdict(list)
    for user_id, email, key in accounts:
        groups[key].append((user_id, email))
    clashes = {key: group for key, group in groups.items() if len(group) > 1}
    if not clashes:
        return
    described = [
        (f"{key!r} <- " if isinstance(key, str) else "")
        + ", ".join(f"id {user_id} ({email!r})" for user_id, email in group)
        for key, group in clashes.items()
    ]
    more = f"; and {len(described) - MAX_LISTED} more groups" if len(described) > MAX_LISTED else ""
    raise EmailCollision(
        f"{sum(map(len, clashes.values()))} accounts {what}, nothing was changed: "
        f"{'; '.join(described[:MAX_LISTED])}{more}. "
        "Change or delete all but one of each group, then migrate again."
    )
