"""Migrations: up, down and up again on both backends; a model change without one fails."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, String, Table, create_engine, inspect, text

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
