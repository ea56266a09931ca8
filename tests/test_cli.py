"""`python manage.py …` as an operator runs it, against SQLite and MySQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from core.settings import Settings
from persistence.db import sync_url
from server.main import uvicorn_config

ROOT = Path(__file__).resolve().parent.parent


def manage(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "APP_ENV": "test",
        "PASSWORD_HASH_PROFILE": "fast",
        "JWT_SECRET": settings.jwt_secret,
        "SECRET_KEY": settings.secret_key,
        **env,
    }
    environment.pop("REDIS_URL", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def rows(settings: Settings, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(sync_url(settings.database_url))
    with engine.connect() as conn:
        found = [tuple(r) for r in conn.execute(text(sql))]
    engine.dispose()
    return found


def test_migrate_then_create_admin(settings: Settings) -> None:
    assert manage(settings, "migrate").returncode == 0
    made = manage(
        settings,
        "create-admin",
        "--name",
        "Root",
        "--email",
        "Root@Example.com",
        "--password",
        "a long passphrase",
    )
    assert made.returncode == 0, made.stderr
    [(role, password_hash)] = rows(
        settings, "SELECT role, password_hash FROM users WHERE email = 'root@example.com'"
    )
    assert role == "admin"
    assert str(password_hash).startswith("$argon2id$")


def test_duplicate_admin_email_is_refused(settings: Settings) -> None:
    args = ("create-admin", "--name", "A", "--email", "a@example.com", "--password", "long enough")
    assert manage(settings, *args).returncode == 0
    again = manage(settings, *args)
    assert again.returncode == 1
    assert "EMAIL_EXISTS" in again.stderr
    assert "Traceback" not in again.stderr


def test_weak_password_and_bad_email_are_named(settings: Settings) -> None:
    result = manage(settings, "create-admin", "--name", "A", "--email", "nope", "--password", "x")
    assert result.returncode == 2
    assert "password:" in result.stderr
    assert "email:" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_database_is_a_clear_failure(settings: Settings) -> None:
    result = manage(
        settings,
        "create-admin",
        "--name",
        "A",
        "--email",
        "a@example.com",
        "--password",
        "long enough",
        DATABASE_URL="mysql+pymysql://root@127.0.0.1:1/x",
        DB_TIMEOUT="1",
    )
    assert result.returncode == 1
    assert "SERVICE_UNAVAILABLE" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Can't connect" in result.stderr
    migrate = manage(settings, "migrate", DATABASE_URL="mysql+pymysql://root@127.0.0.1:1/x")
    assert migrate.returncode == 1
    assert "Traceback" not in migrate.stderr


def test_an_unmigrated_database_says_to_migrate(settings: Settings, tmp_path: Path) -> None:
    if settings.database_url.startswith("sqlite"):
        empty = f"sqlite:///{tmp_path}/empty.db"
    else:  # a database nobody created: the CLI must not create it behind `migrate`'s back
        url = sync_url(settings.database_url)
        empty = url.set(database=f"{url.database}_absent").render_as_string(hide_password=False)
    args = ("create-admin", "--name", "A", "--email", "a@example.com", "--password", "long enough")
    result = manage(settings, *args, DATABASE_URL=empty)
    assert result.returncode == 1
    assert "SERVICE_UNAVAILABLE" in result.stderr
    assert "manage.py migrate" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "database_url",
    [
        "postgresql://u:hunter2hunter2@db/app",
        "not a url",
        "mysql+pymysql://u:hunter2hunter2@db:x/app",
    ],
)
def test_an_unusable_database_url_is_a_configuration_error(
    settings: Settings, database_url: str
) -> None:
    for command in ("migrate", "seed-data"):
        result = manage(settings, command, DATABASE_URL=database_url)
        assert result.returncode == 2, result.stderr
        assert "DATABASE_URL" in result.stderr
        assert "hunter2" not in result.stderr
        assert "Traceback" not in result.stderr


def test_weak_production_configuration_is_refused(settings: Settings) -> None:
    result = manage(
        settings,
        "migrate",
        APP_ENV="prod",
        JWT_SECRET="change-me",
        SECRET_KEY="x" * 40,
        PASSWORD_HASH_PROFILE="owasp",
    )
    assert result.returncode == 2
    assert "JWT_SECRET" in result.stderr
    assert "SECRET_KEY" not in result.stderr


def test_seed_data_is_idempotent(settings: Settings) -> None:
    first = manage(settings, "seed-data", "--count", "3")
    second = manage(settings, "seed-data", "--count", "3")
    assert first.returncode == second.returncode == 0
    assert "3 demo users created" in first.stdout
    assert "0 demo users created" in second.stdout
    names = rows(settings, "SELECT name FROM users")
    assert len(names) == len(set(names)) == 3


def test_export_schema_check(settings: Settings, tmp_path: Path) -> None:
    assert manage(settings, "export-schema", "--check").returncode == 0
    stale = tmp_path / "schema.graphql"
    stale.write_text("type Query { old: Int }\n")
    assert manage(settings, "export-schema", "--check", "--output", str(stale)).returncode == 1
    assert manage(settings, "export-schema", "--output", str(stale)).returncode == 0
    assert stale.read_text() == (ROOT / "schema.graphql").read_text()


def test_worker_without_redis_explains_and_exits(settings: Settings) -> None:
    result = manage(settings, "worker")
    assert result.returncode == 0
    assert "in-process" in result.stderr


@pytest.mark.parametrize(
    "command", ["serve --port notanumber", "serve --workers 0", "seed-data --count 0", "nope"]
)
def test_bad_arguments_exit_2(settings: Settings, command: str) -> None:
    assert manage(settings, *command.split()).returncode == 2


def test_serve_believes_forwarded_headers_only_from_trusted_proxies(settings: Settings) -> None:
    """uvicorn's default trusts X-Forwarded-For from 127.0.0.1, so a local client could spoof."""
    plain = uvicorn_config(settings, "server.main:app_factory", "127.0.0.1", 8000)
    assert plain.proxy_headers is False
    assert plain.timeout_graceful_shutdown == 10
    behind = uvicorn_config(
        settings.with_(trusted_proxies=("10.0.0.1", "10.1.0.0/16")),
        "x:y",
        "127.0.0.1",
        8000,
    )
    assert behind.proxy_headers is True
    assert behind.forwarded_allow_ips == "10.0.0.1,10.1.0.0/16"


def test_migrate_creates_the_sqlite_folder(settings: Settings, tmp_path: Path) -> None:
    target = tmp_path / "not" / "yet" / "there.db"
    result = manage(settings, "migrate", DATABASE_URL=f"sqlite:///{target}")
    assert result.returncode == 0, result.stderr
    assert target.exists()
