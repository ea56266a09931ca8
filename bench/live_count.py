"""Is one counter row a lock hot spot? Concurrent sign-ups on MariaDB with the live users count
kept on 1 row, on the migration's rows, and with no count at all (no triggers).

    python -m bench.live_count --database-url mysql+pymysql://root@127.0.0.1:3306/bench_counts

Each of `--threads` connections signs up `--each` users, one transaction a user as
`resolvers.accounts.create_account` writes it (the email looked up, the row inserted, commit),
all at once; the figure is sign-ups per second of the whole, and the count is checked exact.
Not part of `make bench`. The database is dropped and rebuilt (its name must contain `bench`).
"""

from __future__ import annotations

import argparse
import importlib.util
import threading
import time
from pathlib import Path
from types import ModuleType

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from bench import seed
from persistence.db import sync_url

MIGRATION = Path(__file__).parent.parent / "migrations/versions/0011_live_user_count.py"
INSERT = (
    "INSERT INTO users (name, email, password_hash, role, is_active, token_version, version, "
    "created_at, updated_at, email_verified) VALUES "
    "(%s, %s, '!', 'user', 1, 0, 1, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), 0)"
)


def migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("live_user_count", MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def use_triggers(url: URL, slots: int | None) -> None:
    """The triggers over `slots` rows (None: no triggers), the count recomputed."""
    ddl = migration()
    engine = create_engine(url)
    with engine.begin() as conn:
        for name in ddl.TRIGGERS:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        conn.execute(text("DELETE FROM live_user_counts"))
        if slots is None:
            return
        for statement in ddl.trigger_ddl("mysql", slots):
            conn.execute(text(statement))
        conn.execute(
            text(
                f"INSERT INTO live_user_counts (slot, live) SELECT seq - 1, 0 FROM seq_1_to_{slots}"
            )
        )
        conn.execute(
            text(
                "UPDATE live_user_counts SET live = "
                "(SELECT COUNT(*) FROM users WHERE deleted_at IS NULL) WHERE slot = 0"
            )
        )
    engine.dispose()


def sign_ups(url: URL, label: str, threads: int, each: int) -> float:
    """Sign-ups per second of `threads` connections signing up `each` users at once."""
    import pymysql  # type: ignore[import-untyped]  # no stubs installed

    start = threading.Barrier(threads + 1)

    def worker(number: int) -> None:
        conn = pymysql.connect(
            host=url.host, port=url.port or 3306, user=url.username, password=url.password or "",
            database=url.database, autocommit=False,
        )  # fmt: skip
        start.wait()
        with conn.cursor() as cursor:
            for n in range(each):
                email = f"{label}-{number}-{n}@counts.example"
                cursor.execute("SELECT id FROM users WHERE email = %s", (email,))
                cursor.execute(INSERT, (f"User {n}", email))
                conn.commit()
        conn.close()

    running = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in running:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in running:
        thread.join()
    return threads * each / (time.perf_counter() - began)


def exact(url: URL) -> tuple[int, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        kept = conn.scalar(text("SELECT SUM(live) FROM live_user_counts"))
        rows = conn.scalar(text("SELECT COUNT(*) FROM users WHERE deleted_at IS NULL"))
    engine.dispose()
    return int(kept or 0), int(rows or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--each", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    url = sync_url(args.database_url)
    seed.prepare(args.database_url, 1000, log=False)
    variants: dict[str, int | None] = {
        "no count": None,
        "1 row": 1,
        f"{migration().SLOTS} rows": migration().SLOTS,
    }
    results: dict[str, list[float]] = {label: [] for label in variants}
    for round_ in range(args.rounds):
        for label, slots in variants.items():  # interleaved: the machine's load moves
            use_triggers(url, slots)
            tag = f"r{round_}-{label.replace(' ', '')}"
            results[label].append(sign_ups(url, tag, args.threads, args.each))
            if slots is not None:
                kept, rows = exact(url)
                assert kept == rows, f"{label}: count {kept} != {rows} live rows"
    use_triggers(url, migration().SLOTS)
    print(f"{args.threads} connections x {args.each} sign-ups, {args.rounds} rounds (median):")
    for label, rates in results.items():
        print(f"  {label:>8}: {sorted(rates)[len(rates) // 2]:8.1f} sign-ups/s  {rates}")


if __name__ == "__main__":
    main()
