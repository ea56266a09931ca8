"""The bench database: migrated with the product's migrations, seeded in one statement.

Seeded users are `user<n>@bench.example` with ids 1..N, one second apart in `created_at`, and
`created_by` pointing at another seeded user (so `createdBy` resolves, mostly outside the page).
Their password hash is unusable on purpose: only the admin account can sign in. The admin is
created through `resolvers.accounts.create_account` on every run, with a password made for the
run, so nothing secret is stored anywhere.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import URL

from core.settings import Settings
from persistence.db import sync_url
from persistence.migrate import upgrade
from resolvers.accounts import create_account
from resolvers.auth import login
from resolvers.bootstrap import bootstrap
from resolvers.deps import Caller

ADMIN_EMAIL = "bench-admin@bench.example"
USER_DOMAIN = "@bench.example"
# created_by of user n: another user, scattered over the table (a prime stride modulo N).
STRIDE = 7919
_COLUMNS = (
    "id, name, email, password_hash, role, is_active, token_version, version, "
    "created_at, updated_at, deleted_at, created_by"
)


@dataclass(frozen=True, slots=True)
class Admin:
    user_id: int
    email: str
    password: str
    token: str  # an access token bound to 127.0.0.1 and the bench's User-Agent


def is_bench_database(url: URL) -> bool:
    """The runner drops and rebuilds only a database (or file) whose name says it is the bench's."""
    return "bench" in (url.database or "")


def prepare(database_url: str, users: int, log: bool = True) -> None:
    """Migrate, and seed `users` users unless exactly those are already there."""
    url = sync_url(database_url)
    if not is_bench_database(url):
        raise SystemExit(f"refusing to seed {url.database!r}: its name must contain 'bench'")
    if _seeded_count(url) == users:
        if log:
            print(f"bench database already holds {users:,} seeded users; reusing it")
        upgrade(database_url)  # a no-op at head; new migrations (indexes) apply to the reused data
        return
    _drop(url)
    upgrade(database_url)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            if log:
                print(f"seeding {users:,} users ...", flush=True)
            _seed(conn, users)
    finally:
        engine.dispose()


def _seeded_count(url: URL) -> int | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT COUNT(*) FROM users WHERE email LIKE :pattern"),
                {"pattern": f"user%{USER_DOMAIN}"},
            ).scalar()
            return int(found or 0)
    except Exception:  # no database or no table yet: it gets built
        return None
    finally:
        engine.dispose()


def _drop(url: URL) -> None:
    if url.drivername.startswith("sqlite"):
        from pathlib import Path

        if url.database:
            for suffix in ("", "-wal", "-shm"):
                Path(url.database + suffix).unlink(missing_ok=True)
        return
    engine = create_engine(url.set(database=""))
    try:
        with engine.connect() as conn:
            name = (url.database or "").replace("`", "``")
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    finally:
        engine.dispose()


def _seed(conn: Connection, users: int) -> None:
    if conn.dialect.name == "mysql":
        # MariaDB's sequence engine: one INSERT ... SELECT, no round trip per row.
        conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
        conn.execute(
            text(
                f"INSERT INTO users ({_COLUMNS}) "
                "SELECT seq, CONCAT('User ', seq), CONCAT('user', seq, :domain), '!', 'user', "
                "1, 0, 1, TIMESTAMPADD(SECOND, seq, '2025-01-01 00:00:00'), "
                "TIMESTAMPADD(SECOND, seq, '2025-01-01 00:00:00'), NULL, "
                f"MOD(seq * {STRIDE}, :n) + 1 FROM seq_1_to_{int(users)}"
            ),
            {"domain": USER_DOMAIN, "n": users},
        )
        conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))
        return
    conn.execute(
        text(
            "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :n) "
            f"INSERT INTO users ({_COLUMNS}) "
            "SELECT n, 'User ' || n, 'user' || n || :domain, '!', 'user', 1, 0, 1, "
            "datetime('2025-01-01 00:00:00', '+' || n || ' seconds'), "
            "datetime('2025-01-01 00:00:00', '+' || n || ' seconds'), NULL, "
            f"(n * {STRIDE}) % :n + 1 FROM seq"
        ),
        {"domain": USER_DOMAIN, "n": users},
    )


def cursor_after(database_url: str, rows: int) -> str:
    """The cursor a client holds after paging through `rows` users in the default order (the
    `endCursor` of the page ending there), made by the product's own query and cursor code."""
    from persistence.user_listing import UserQuery, page_query
    from persistence.views import UserView
    from resolvers.cursors import encode

    wanted = UserQuery()
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as conn:
            row = conn.execute(page_query(wanted, offset=rows - 1, limit=1)).one()
            return encode(wanted, UserView(*row))
    finally:
        engine.dispose()


def create_admin(settings: Settings, user_agent: str) -> Admin:
    """A fresh admin for this run (the previous one and its sessions are removed first), signed
    in through `resolvers.auth.login` as wrk will be seen: from 127.0.0.1 with `user_agent`."""
    password = secrets.token_urlsafe(18)

    async def run() -> tuple[int, str]:
        async with bootstrap(settings) as services:
            async with services.db.transaction() as session:
                await session.execute(
                    text("DELETE FROM users WHERE email = :email"), {"email": ADMIN_EMAIL}
                )
            user = await create_account(
                services, name="Bench Admin", email=ADMIN_EMAIL, password=password, role="admin"
            )
            caller = Caller(request_id="bench", ip="127.0.0.1", user_agent=user_agent)
            pair = await login(services, caller, email=ADMIN_EMAIL, password=password)
            return user.id, pair.access_token

    user_id, token = asyncio.run(run())
    return Admin(user_id, ADMIN_EMAIL, password, token)


def api_key_for(settings: Settings, admin: Admin, user_agent: str) -> str:
    """A fresh API key of the bench admin, made through `resolvers.api_keys.create_api_key`
    from the admin's session (seen as `create_admin` signed it in)."""
    from resolvers.api_keys import create_api_key
    from resolvers.authn import authenticate

    async def run() -> str:
        async with bootstrap(settings) as services:
            caller = Caller(request_id="bench", ip="127.0.0.1", user_agent=user_agent)
            await authenticate(services, caller, f"Bearer {admin.token}")
            made = await create_api_key(services, caller, name="bench", expires_in_days=None)
            return made.secret

    return asyncio.run(run())
