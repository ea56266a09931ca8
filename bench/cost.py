"""The server's own cost of one request, without sockets or load: the ASGI app is called
directly, one request after another, against the bench database.

    python -m bench.cost me                      # CPU µs per request (median of 5 runs)
    python -m bench.cost me --callgrind          # instructions per request, under valgrind
    python -m bench.cost me-key                  # `me` signed in with an API key
    python -m bench.cost graphql-100 --cprofile 25   # the 25 costliest functions (own time)

CPU time on a shared machine moves by ±10 %; valgrind's instruction count does not (the same
code and inputs give the same count), so a change worth a few per cent shows there first. The
count is the server process's alone (MariaDB and Redis are other processes) and is the
difference of two runs (20 and 220 requests), so start-up cancels out. Do not run it beside
`bench.run`: both sign in the same bench admin.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import logging
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

from bench import seed
from bench.run import DEFAULT_MYSQL, DEFAULT_REDIS, ME_DOC, UA, USERS_DOC
from core.settings import Settings

SINK = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
REQUESTS: dict[str, tuple[str, str, bytes]] = {
    "me": ("POST", "/graphql", json.dumps({"query": ME_DOC}).encode()),
    "graphql-100": (
        "POST",
        "/graphql",
        json.dumps({"query": USERS_DOC.format(page=1, per_page=100)}).encode(),
    ),
    "rest-100": ("GET", "/users?per_page=100", b""),
    "graphql-20": (
        "POST",
        "/graphql",
        json.dumps({"query": USERS_DOC.format(page=1, per_page=20)}).encode(),
    ),
    "rest-20": ("GET", "/users?per_page=20", b""),
}
# `me` signed in with an API key instead of a session's access token.
REQUESTS["me-key"] = REQUESTS["me"]


def product_env(database_url: str, redis_url: str) -> dict[str, str]:
    secret = "bench-cost-" + "s" * 48
    return {
        "APP_ENV": "prod",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "JWT_SECRET": secret,
        "SECRET_KEY": secret,
        "ACCESS_TOKEN_EXPIRES": "86400",
        "LOG_JSON": "true",
    }


async def measure(
    kind: str,
    requests: int,
    runs: int,
    warmup: int,
    settings: Settings,
    token: str,
    clock: Callable[[], float] = time.process_time,
) -> list[float]:
    """CPU seconds (or `clock` seconds) per request of `runs` runs of `requests` sequential
    requests."""
    from server.app import create_app
    from server.logging_setup import configure_logging

    configure_logging(settings)
    logging.getLogger().handlers[0].stream = SINK  # type: ignore[attr-defined]  # written, unread
    app = create_app(settings)
    method, target, body = REQUESTS[kind]
    path, _, query = target.partition("?")
    headers = [
        (b"host", b"127.0.0.1"),
        (b"user-agent", UA.encode()),
        (b"authorization", f"Bearer {token}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]

    async def one() -> None:
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": query.encode(),
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        delivered = False
        status: list[int] = []

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # the client never leaves
            raise AssertionError("unreachable")

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        await app(scope, receive, send)
        if status != [200]:
            raise SystemExit(f"{kind}: HTTP {status}")

    async with app.router.lifespan_context(app):
        for _ in range(warmup):
            await one()
        gc.collect()  # as `serve` does after start-up (server/main.py): what lives on is frozen
        gc.freeze()
        per_request = []
        for _ in range(runs):
            started = clock()
            for _ in range(requests):
                await one()
            per_request.append((clock() - started) / requests)
    return per_request


def callgrind(kind: str, args: argparse.Namespace) -> int:
    """Instructions per request: two runs under valgrind, 200 requests apart."""
    counts = []
    with tempfile.TemporaryDirectory() as tmp:
        for requests in (20, 220):
            out = Path(tmp) / f"callgrind.{requests}"
            command = [
                "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                sys.executable, "-m", "bench.cost", kind, "--requests", str(requests),
                "--runs", "1", "--warmup", "20",
                "--database-url", args.database_url, "--redis-url", args.redis_url,
                *(f"--env={item}" for item in args.env),
            ]  # fmt: skip
            run = subprocess.run(command, capture_output=True, text=True)
            if run.returncode != 0:  # say why: valgrind's own lines left out
                said = [line for line in run.stderr.splitlines() if not line.startswith("==")]
                raise SystemExit(f"{requests} requests under valgrind failed: {said[-5:]}")
            summary = re.search(r"^summary: (\d+)", out.read_text(), re.MULTILINE)
            if summary is None:
                raise SystemExit("valgrind wrote no summary")
            counts.append(int(summary.group(1)))
    return (counts[1] - counts[0]) // 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=sorted(REQUESTS))
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_MYSQL)
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS))
    parser.add_argument("--callgrind", action="store_true", help="count instructions instead")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a product setting for this run, e.g. GRAPHQL_EXECUTOR=standard (repeatable)",
    )
    parser.add_argument(
        "--wall", action="store_true", help="elapsed time instead of CPU (the database's included)"
    )
    parser.add_argument("--cache-off", action="store_true", help="CACHE_TTL=0: every page read")
    parser.add_argument(
        "--cprofile",
        type=int,
        default=0,
        metavar="N",
        help="print the N costliest functions under cProfile (slower: for shares)",
    )
    parser.add_argument(
        "--cprofile-sort",
        choices=("tottime", "cumulative"),
        default="tottime",
        help="own time (default) or time including callees",
    )
    args = parser.parse_args()
    seed.prepare(args.database_url, args.users, log=False)
    if args.callgrind:
        print(f"{args.kind}: {callgrind(args.kind, args):,} instructions per request")
        return
    overrides = dict(item.partition("=")[::2] for item in args.env)
    env = product_env(args.database_url, args.redis_url) | overrides
    if args.cache_off:
        env["CACHE_TTL"] = "0"
    settings = Settings.from_env(env)
    admin = seed.create_admin(settings, UA)
    token = seed.api_key_for(settings, admin, UA) if args.kind == "me-key" else admin.token
    clock = time.perf_counter if args.wall else time.process_time
    work = measure(args.kind, args.requests, args.runs, args.warmup, settings, token, clock)
    if args.cprofile:
        profile = cProfile.Profile()
        runs = profile.runcall(asyncio.run, work)
        pstats.Stats(profile).sort_stats(args.cprofile_sort).print_stats(args.cprofile)
    else:
        runs = asyncio.run(work)
    micros = [round(r * 1e6) for r in runs]
    what = "elapsed" if args.wall else "CPU"
    print(f"{args.kind}: {statistics.median(micros):,} µs {what} per request (runs: {micros})")


if __name__ == "__main__":
    main()
