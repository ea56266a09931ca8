"""Migrations: up, down and up again on both backends; a model change without one fails."""
# ruff: noqa: RUF001  (a fullwidth letter in an email is what the 0005 tests are about)

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, String, Table, column, create_engine, inspect, text
from sqlalchemy import table as sa_table

from persistence.db import sync_url
from persistence.migrate import downgrade, upgrade
from persistence.models import Base
from tests.conftest import mysql_urls


@pytest.fixture(params=["sqlite", "mysql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own (never the suite's)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/migrations.db"
        return
    urls = mysql_urls()
    if urls is None:
        pytest.skip("TEST_DATABASE_URL / TEST_REDIS_URL not set")
    url = sync_url(urls[0])
    name = f"{url.database}_mig"
    server = create_engine(url.set(database=""))
    with server.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    yield url.set(database=name).render_as_string(hide_password=False)
    with server.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    server.dispose()


def tables(database_url: str) -> set[str]:
    engine = create_engine(sync_url(database_url))
    names = set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    return names


def model_drift(database_url: str, metadata: MetaData = Base.metadata) -> list[object]:
    """What autogenerate would write: the options migrations/env.py runs with."""
    engine = create_engine(sync_url(database_url))
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "render_as_batch": True}
        )
        diff = compare_metadata(context, metadata)
    engine.dispose()
    return list(diff)


def copy_of_models() -> MetaData:
    """The models' tables in a metadata of their own, to change without touching the real ones."""
    copy = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(copy)
    return copy


def add_a_column(users: Table) -> None:
    users.append_column(Column("nickname", String(40), nullable=True))


def change_a_type(users: Table) -> None:
    users.c.name.type = String(users.c.name.type.length + 1)  # type: ignore[attr-defined]


def test_upgrade_downgrade_upgrade(fresh_url: str) -> None:
    upgrade(fresh_url)
    assert tables(fresh_url) == set(Base.metadata.tables)
    downgrade(fresh_url, "base")
    assert tables(fresh_url) == set()
    upgrade(fresh_url)
    assert tables(fresh_url) == set(Base.metadata.tables)


def test_models_and_migrations_agree(fresh_url: str) -> None:
    upgrade(fresh_url)
    assert model_drift(fresh_url) == []


@pytest.mark.parametrize("change", [add_a_column, change_a_type])
def test_a_model_change_without_a_migration_is_caught(
    fresh_url: str, change: Callable[[Table], None]
) -> None:
    upgrade(fresh_url)
    models = copy_of_models()
    assert model_drift(fresh_url, models) == []  # the copy alone is no change
    change(models.tables["users"])
    assert model_drift(fresh_url, models) != []


# --- 0005: one identity per email ------------------------------------------------------------


def insert_users(database_url: str, emails: dict[int, str]) -> None:
    """Rows as an older version of the server (or a hand-written import) left them."""
    engine = create_engine(sync_url(database_url))
    now = datetime.now(UTC)
    rows = [
        {
            "id": user_id,
            "name": f"User {user_id}",
            "email": email,
            "password_hash": "x",
            "role": "user",
            "is_active": True,
            "token_version": 0,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for user_id, email in emails.items()
    ]
    with engine.begin() as conn:
        # The columns of revision 0004, not the models' (later revisions add more).
        conn.execute(sa_table("users", *(column(name) for name in rows[0])).insert(), rows)
    engine.dispose()


def stored(database_url: str) -> tuple[str | None, dict[int, str], str | None]:
    """The revision, the emails by id, and (MySQL) the email column's collation."""
    engine = create_engine(sync_url(database_url))
    with engine.connect() as conn:
        revision = conn.scalar(text("SELECT version_num FROM alembic_version"))
        rows = conn.execute(text("SELECT id, email FROM users ORDER BY id")).all()
        emails = {int(row[0]): str(row[1]) for row in rows}
        collation = None
        if engine.dialect.name == "mysql":
            collation = conn.scalar(
                text(
                    "SELECT collation_name FROM information_schema.columns WHERE table_schema"
                    " = DATABASE() AND table_name = 'users' AND column_name = 'email'"
                )
            )
    engine.dispose()
    return revision, emails, collation


def is_mysql(database_url: str) -> bool:
    return not database_url.startswith("sqlite")


def test_email_migration_normalises_rows_up_and_down(fresh_url: str) -> None:
    upgrade(fresh_url, "0004")
    insert_users(fresh_url, {1: "  Ｊurgen@Example.COM", 2: "ada@example.com", 3: "Straße@X.de"})
    upgrade(fresh_url, "0005")
    normalised = {1: "jurgen@example.com", 2: "ada@example.com", 3: "strasse@x.de"}
    bin_ = "utf8mb4_bin" if is_mysql(fresh_url) else None
    assert stored(fresh_url) == ("0005", normalised, bin_)
    insert_users(fresh_url, {4: "JURGEN@example.com"})  # other bytes: the unique key lets it in
    downgraded = "utf8mb4_unicode_ci" if is_mysql(fresh_url) else None
    if is_mysql(fresh_url):  # the old collation takes 1 and 4 for one: named, nothing changed
        with pytest.raises(Exception, match=r"id 1 \('jurgen@example.com'\), id 4") as caught:
            downgrade(fresh_url, "0004")
        assert "utf8mb4_unicode_ci" in str(caught.value).splitlines()[0]
        assert stored(fresh_url) == ("0005", {**normalised, 4: "JURGEN@example.com"}, bin_)
    engine = create_engine(sync_url(fresh_url))
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM users WHERE id = 4"))
    engine.dispose()
    downgrade(fresh_url, "0004")
    assert stored(fresh_url) == ("0004", normalised, downgraded)  # emails stay normalised
    upgrade(fresh_url, "0005")
    assert stored(fresh_url) == ("0005", normalised, bin_)


def test_email_migration_stops_on_collisions_and_names_the_accounts(fresh_url: str) -> None:
    # Pairs that differ under both old comparisons (utf8mb4_unicode_ci weighs every character
    # beyond the BMP alike, binary compares bytes) but are one email once normalised.
    before = {
        1: "a@example.com",
        2: "\U0001d41a@example.com",  # MATHEMATICAL BOLD SMALL A
        3: "bob@example.com",
        4: "bo\U0001d41b@example.com",  # ... SMALL B
        5: "Carol@example.com",
    }
    upgrade(fresh_url, "0004")
    insert_users(fresh_url, before)
    with pytest.raises(Exception, match="4 accounts would share one email") as caught:
        upgrade(fresh_url, "0005")
    line = str(caught.value)
    assert "\n" not in line  # `manage.py migrate` prints the first line only
    for user_id in (1, 2, 3, 4):
        assert f"id {user_id} (" in line
    assert "id 5" not in line and "nothing was changed" in line
    unchanged = "utf8mb4_unicode_ci" if is_mysql(fresh_url) else None
    assert stored(fresh_url) == ("0004", before, unchanged)


# --- 0007: the account lifecycle ---------------------------------------------------------------


def names_in_order(database_url: str) -> list[str]:
    engine = create_engine(sync_url(database_url))
    with engine.connect() as conn:
        names = [str(row[0]) for row in conn.execute(text("SELECT name FROM users ORDER BY name"))]
    engine.dispose()
    return names


def test_lifecycle_migration_keeps_existing_rows_and_the_name_order(fresh_url: str) -> None:
    upgrade(fresh_url, "0005")
    insert_users(fresh_url, {1: "b@example.com", 2: "a@example.com"})
    engine = create_engine(sync_url(fresh_url))
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET name = 'bob' WHERE id = 1"))
        conn.execute(text("UPDATE users SET name = 'Alice' WHERE id = 2"))
    engine.dispose()
    for step in (upgrade, lambda url: downgrade(url, "0005"), upgrade):
        step(fresh_url)
        assert names_in_order(fresh_url) == ["Alice", "bob"]  # still case-insensitive
    engine = create_engine(sync_url(fresh_url))
    with engine.connect() as conn:
        verified = conn.execute(text("SELECT email_verified FROM users")).scalars().all()
    engine.dispose()
    assert [bool(v) for v in verified] == [False, False]


def test_totp_migration_keeps_existing_rows_without_a_second_factor(fresh_url: str) -> None:
    upgrade(fresh_url, "0007_account_lifecycle")
    insert_users(fresh_url, {1: "b@example.com", 2: "a@example.com"})
    engine = create_engine(sync_url(fresh_url))
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET name = 'bob' WHERE id = 1"))
        conn.execute(text("UPDATE users SET name = 'Alice' WHERE id = 2"))
    for step in (upgrade, lambda url: downgrade(url, "0007_account_lifecycle"), upgrade):
        step(fresh_url)
        assert names_in_order(fresh_url) == ["Alice", "bob"]  # still case-insensitive
    with engine.connect() as conn:
        enabled = conn.execute(text("SELECT mfa_enabled FROM users ORDER BY id")).scalars().all()
    engine.dispose()
    assert [bool(v) for v in enabled] == [False, False]
    assert {"totp_factors", "recovery_codes", "mfa_tickets"} <= tables(fresh_url)
