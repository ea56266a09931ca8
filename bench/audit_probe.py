"""`auditEvents` at depth: the first page against a page a million events deep.

    DATABASE_URL=mysql+pymysql://root@127.0.0.1:3306/bench_audit \\
        python -m bench.audit_probe [--events 1000000] [--runs 20]

Migrates, fills `audit_events` up to `--events` rows (multi-row INSERTs, 24 actions in turn,
10,000 actors and subjects, one event a second), then times `resolvers.audit_events
.list_audit_events` (what both transports call) for the first page and for a page whose cursor
sits 90 % of the way down, without and with each filter; and, for contrast, the same deep page
read with an OFFSET. Prints one JSON line per case: median and p95 milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import create_engine, func, insert, select, text

from core.audit import ACTIONS
from core.settings import Settings
from persistence import audit_events as audit_table
from persistence.audit_events import AuditEventView
from persistence.db import sync_url
from persistence.migrate import upgrade
from persistence.models import AuditEvent
from resolvers import audit_events
from resolvers.bootstrap import bootstrap
from resolvers.deps import Caller, Principal, Services

T0 = datetime(2025, 1, 1, tzinfo=UTC)
CHUNK = 5000
PAGE = 50


def fill(database_url: str, wanted: int) -> int:
    """Insert events until the table holds `wanted`; how many it holds."""
    engine = create_engine(sync_url(database_url))
    rng = random.Random(18)  # noqa: S311 (made-up data, repeatable)
    with engine.begin() as conn:
        have = int(conn.scalar(select(func.count(AuditEvent.id))) or 0)
    while have < wanted:
        rows = [_event(rng, i) for i in range(have, min(wanted, have + CHUNK))]
        with engine.begin() as conn:
            conn.execute(insert(AuditEvent), rows)
        have += len(rows)
    engine.dispose()
    return have


def _event(rng: random.Random, i: int) -> dict[str, Any]:
    return {
        "at": T0 + timedelta(seconds=i),
        "action": ACTIONS[i % len(ACTIONS)],
        "actor_id": rng.randint(1, 10_000) if i % 5 else None,
        "subject_id": rng.randint(1, 10_000),
        "ip_address": f"198.51.100.{i % 250}",
        "user_agent": "bench-agent/1.0",
        "request_id": f"{i:032x}",
        "details": orjson.dumps({"i": i}).decode(),
    }


async def timed(runs: int, call: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    await call()  # warm the pool and the buffer pool
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 2),
    }


async def deep_cursor(services: Services, query: audit_events.AuditFilter, depth: int) -> str:
    """The cursor of the event `depth` places down the filtered, newest-first order."""
    wanted = audit_events.check_filter(query)
    conditions = audit_table.filters(wanted)
    statement = (
        select(*audit_table.COLUMNS)
        .where(*conditions)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset(depth)
        .limit(1)
    )
    async with services.db.reading() as connection:
        row = (await connection.execute(statement)).one()
    return audit_events.encode_cursor(AuditEventView(*row))


async def probe(events: int, runs: int) -> None:
    settings = Settings.from_env()
    caller = Caller(request_id="bench-audit", principal=Principal(1, "admin", "bench"))
    middle = T0 + timedelta(seconds=events // 2)
    cases = {
        "no filter": audit_events.AuditFilter(),
        "action": audit_events.AuditFilter(action="login.failed"),
        "actor": audit_events.AuditFilter(actor_id="4242"),
        "since/until": audit_events.AuditFilter(since=T0, until=middle),
        "action + since": audit_events.AuditFilter(action="user.deleted", since=T0),
    }
    async with bootstrap(settings) as services:
        for name, query in cases.items():
            first = await timed(runs, _page(services, caller, query, None))
            matching = await _count(services, query)
            depth = max(0, int(matching * 0.9) - 1)
            cursor = await deep_cursor(services, query, depth)
            deep = await timed(runs, _page(services, caller, query, cursor))
            print(orjson.dumps({"case": name, "matching": matching, "depth": depth,
                                "first_page": first, "deep_page": deep}).decode())  # fmt: skip
        offset = await timed(max(3, runs // 5), lambda: _offset_page(services, int(events * 0.9)))
        print(orjson.dumps({"case": "no filter, OFFSET instead", "deep_page": offset}).decode())


def _page(
    services: Services, caller: Caller, query: audit_events.AuditFilter, after: str | None
) -> Callable[[], Awaitable[Any]]:
    def call() -> Awaitable[Any]:
        return audit_events.list_audit_events(
            services, caller, first=PAGE, after=after, filter=query
        )

    return call


async def _count(services: Services, query: audit_events.AuditFilter) -> int:
    wanted = audit_events.check_filter(query)
    statement = select(func.count()).select_from(AuditEvent).where(*audit_table.filters(wanted))
    async with services.db.reading() as connection:
        return int(await connection.scalar(statement) or 0)


async def _offset_page(services: Services, offset: int) -> None:
    statement = (
        select(*audit_table.COLUMNS)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset(offset)
        .limit(PAGE)
    )
    async with services.db.reading() as connection:
        (await connection.execute(statement)).all()


def explain(database_url: str) -> None:
    """The plan of a deep keyset page, printed once (MySQL/MariaDB)."""
    engine = create_engine(sync_url(database_url))
    with engine.connect() as conn:
        if engine.dialect.name != "mysql":
            return
        plan = (
            conn.execute(
                text(
                    "EXPLAIN SELECT id FROM audit_events WHERE action = 'login.failed' AND "
                    "(at < '2025-01-10 00:00:00' OR (at = '2025-01-10 00:00:00' AND id < 5)) "
                    "ORDER BY at DESC, id DESC LIMIT 51"
                )
            )
            .mappings()
            .all()
        )
    engine.dispose()
    print(orjson.dumps({"explain": [dict(row) for row in plan]}, default=str).decode())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    settings = Settings.from_env()
    upgrade(settings.database_url)
    started = time.perf_counter()
    held = fill(settings.database_url, args.events)
    print(
        orjson.dumps(
            {"events": held, "fill_seconds": round(time.perf_counter() - started, 1)}
        ).decode()
    )
    explain(settings.database_url)
    asyncio.run(probe(held, args.runs))


if __name__ == "__main__":
    main()
