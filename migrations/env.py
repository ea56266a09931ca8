"""Alembic environment: the URL comes from the settings (or from the caller), the models give metadata."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from core.settings import Settings
from persistence.db import HIDE_PARAMETERS, sync_url
from persistence.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    given = config.attributes.get("database_url")
    database_url = given if isinstance(given, str) else Settings.from_env().database_url
    return sync_url(database_url).render_as_string(hide_password=False)


def run_migrations_offline() -> None:
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url(), poolclass=pool.NullPool, hide_parameters=HIDE_PARAMETERS)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: Connection) -> None:
    # Batch mode lets ALTERs work on SQLite too (it recreates the table).
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
