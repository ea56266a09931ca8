"""`python manage.py …` as an operator runs it, against SQLite and MySQL."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from core.passwords import PasswordHasher
from core.settings import Settings
from persistence.db import sync_url
from server.main import uvicorn_config
from tests.conftest import Accounts, GraphQLClient

ROOT = Path(__file__).resolve().parent.parent


def cli_environment(settings: Settings, **env: str) -> dict[str, str]:
    """What manage.py runs with: `settings`' database and secrets, no Redis unless in `env`."""
    inherited = {name: value for name, value in os.environ.items() if name != "REDIS_URL"}
    return {
        **inherited,
        "DATABASE_URL": settings.database_url,
        "APP_ENV": "test",
        "PASSWORD_HASH_PROFILE": "fast",
        "JWT_SECRET": settings.jwt_secret,
        "SECRET_KEY": settings.secret_key,
        **env,
    }


def manage(
    settings: Settings, *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=cli_environment(settings, **env),
        input=stdin,
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


def admin_can_sign_in(settings: Settings, email: str, password: str) -> bool:
    [(role, password_hash)] = rows(
        settings, f"SELECT role, password_hash FROM users WHERE email = '{email}'"
    )
    hasher = PasswordHasher.for_profile("fast")
    return role == "admin" and hasher.verify(str(password_hash), password)


def test_create_admin_reads_the_password_from_stdin(settings: Settings) -> None:
    args = ("create-admin", "--name", "Root", "--email", "root@example.com", "--password-stdin")
    made = manage(settings, *args, stdin="a long passphrase\n")
    assert made.returncode == 0, made.stderr
    assert admin_can_sign_in(settings, "root@example.com", "a long passphrase")


def test_create_admin_prompts_twice_without_echo(settings: Settings) -> None:
    """With neither flag the password is typed at a terminal, where it does not echo."""
    typed = "a long passphrase"
    args = ("create-admin", "--name", "Root", "--email", "root@example.com")
    code, screen = at_terminal(settings, args, [typed, typed])
    assert code == 0, screen
    assert "Password:" in screen and "Password (again):" in screen
    assert typed not in screen
    assert admin_can_sign_in(settings, "root@example.com", typed)
    code, screen = at_terminal(
        settings, ("create-admin", "--name", "B", "--email", "b@example.com"), [typed, "other"]
    )
    assert code == 2 and "The two typed differ" in screen
    assert rows(settings, "SELECT id FROM users WHERE email = 'b@example.com'") == []


def at_terminal(settings: Settings, args: tuple[str, ...], answers: list[str]) -> tuple[int, str]:
    """Run manage.py on a pseudo-terminal, typing each answer after its prompt appears."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=cli_environment(settings),
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,  # no controlling terminal: getpass uses this one, on stdin
    )
    os.close(terminal)
    screen = b""
    pending = list(answers)
    while True:
        ready, _, _ = select.select([controller], [], [], 30)
        assert ready, f"no output in time: {screen!r}"
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the process closed the terminal
            break
        if not chunk:
            break
        screen += chunk
        if pending and screen.endswith(b": "):  # a prompt, with echo off until its newline
            os.write(controller, pending.pop(0).encode() + b"\n")
    os.close(controller)
    return process.wait(60), screen.decode(errors="replace")


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


@pytest.mark.mysql_only
async def test_seed_data_invalidates_the_pages_the_api_cached(
    settings: Settings, gql: GraphQLClient, accounts: Accounts
) -> None:
    """The CLI writes through the same Redis cache as the API: its users show on the next read.
    (Without Redis, another process's writes show once CACHE_TTL has passed: see the README.)"""
    assert settings.redis_url is not None
    admin = await accounts.admin_token()
    query = "{ users { pageInfo { total } } }"
    assert (await gql(query, token=admin))["data"]["users"]["pageInfo"]["total"] == 1
    seeded = manage(settings, "seed-data", "--count", "3", REDIS_URL=settings.redis_url)
    assert seeded.returncode == 0, seeded.stderr
    assert (await gql(query, token=admin))["data"]["users"]["pageInfo"]["total"] == 4


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
