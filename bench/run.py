"""The bench runner: seed, start each server pinned to core 0, load it from core 1 with wrk, and
print one table of req/s, p50, p99 and the ratio to the floor, all from this one run.

    python -m bench.run --quick                      # 10,000 users, a few seconds per scenario
    python -m bench.run --users 1000000 --duration 10
    python -m bench.run --baseline HEAD~1 --only graphql   # the product at another commit too

See bench/README.md for what each scenario measures and the last recorded table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench import seed
from core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "bench"
LUA = Path(__file__).resolve().parent / "request.lua"
HOST = "127.0.0.1"
UA = "accounts-bench/1"
DEFAULT_MYSQL = "mysql+pymysql://root@127.0.0.1:3306/bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/12"
SERVER_CORE, LOAD_CORE = "0", "1"
# The stock server opens a session per createdBy (N+1): at 16 connections its default pool
# (5 + 10 overflow) times requests out and nothing completes; 4 connections still saturate it.
STOCK_CONNECTIONS = 4

USERS_DOC = (
    "query Users {{ users(page: {page}, perPage: {per_page}) {{ items {{ id name email role "
    "isActive createdAt createdBy {{ id name }} }} pageInfo {{ total }} }} }}"
)
USERS_AFTER_DOC = (
    "query Users($after: String, $perPage: Int) { users(after: $after, perPage: $perPage) "
    "{ items { id name email role isActive createdAt createdBy { id name } } "
    "pageInfo { total hasNextPage endCursor } } }"
)
ME_DOC = "query Me { me { id name email role } }"
LOGIN_DOC = (
    "mutation Login($email: String!, $password: String!) "
    "{ login(email: $email, password: $password) { accessToken } }"
)


# --- what to measure ------------------------------------------------------------------------


@dataclass
class Scenario:
    key: str
    server: str  # which server answers it (see `Runner.server_env`)
    label: str
    path: str
    method: str = "GET"
    body: str = ""
    auth: bool = False
    floor: str | None = None  # the key of the scenario this one is compared with
    expect_items: int | None = None
    connections: int | None = None
    unit: str = "req/s"


@dataclass
class Result:
    scenario: Scenario
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    requests: int = 0
    errors: int = 0
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def median_of(results: list[Result]) -> Result:
    """The median of each figure over the rounds (errors are summed)."""
    first = results[0]
    return Result(
        first.scenario,
        rps=statistics.median(r.rps for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p99_ms=statistics.median(r.p99_ms for r in results),
        requests=sum(r.requests for r in results),
        errors=sum(r.errors for r in results),
        note=", ".join(first.note.split(", ")[:2])
        + "".join(f", {r.errors} errors" for r in results if r.errors),
    )


def summarise_profile(path: Path, top: int = 25) -> str:
    """py-spy's folded stacks, summed: the functions with the most samples on the stack
    (inclusive) and at the top of it (self), with the module they are in."""
    if not path.exists():
        return f"  (no profile at {path})"
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_frame(f) for f in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
        own[frames[-1]] = own.get(frames[-1], 0) + count
    if not total:
        return "  (empty profile)"
    lines = [f"  profile {path.name}: {total} samples"]
    for title, table in (("inclusive", inclusive), ("self", own)):
        lines.append(f"  top {top} {title}:")
        for frame, count in sorted(table.items(), key=lambda kv: -kv[1])[:top]:
            lines.append(f"    {100 * count / total:5.1f}%  {frame}")
    return "\n".join(lines)


def _frame(frame: str) -> str:
    """`function (path/to/module.py:123)` → `function (package/module.py)`."""
    name, _, where = frame.partition(" (")
    file = where.rsplit(":", 1)[0].rstrip(")")
    for marker in ("site-packages/", str(ROOT) + "/", "/lib/python3"):
        if marker in file:
            file = file.split(marker, 1)[1]
            break
    return f"{name} ({file})"


def graphql(document: str, variables: dict[str, Any] | None = None) -> str:
    return json.dumps({"query": document, "variables": variables or {}})


def users_body(per_page: int, page: int = 1) -> str:
    return graphql(USERS_DOC.format(page=page, per_page=per_page))


def users_after_body(per_page: int, cursor: str) -> str:
    return graphql(USERS_AFTER_DOC, {"after": cursor, "perPage": per_page})


def scenarios(
    users: int, admin: seed.Admin, extra: list[tuple[str, str]], deep_cursor: str | None = None
) -> list[Scenario]:
    """Every scenario; `extra` adds the product scenarios for more servers: (name, label tag).
    `deep_cursor` (1,000,000-user runs): the cursor after the second-to-last page."""

    def floor(key: str, label: str, path: str, items: int | None = None, **more: Any) -> Scenario:
        return Scenario(
            key, "floor", f"floor: raw Starlette, {label}", path, expect_items=items, **more
        )

    def post(
        key: str,
        server: str,
        label: str,
        body: str,
        floor: str | None,
        items: int | None,
        **more: Any,
    ) -> Scenario:
        return Scenario(key, server, label, "/graphql", "POST", body, True, floor, items, **more)

    def rest(key: str, server: str, label: str) -> Scenario:
        return Scenario(
            key,
            server,
            label,
            "/users?per_page=100",
            auth=True,
            floor="floor-rest-100",
            expect_items=100,
        )

    found = [
        floor("floor-20", "users page 20 + createdBy", "/users?per_page=20", 20),
        floor("floor-100", "users page 100 + createdBy", "/users?per_page=100", 100),
        floor(
            "floor-rest-100", "users page 100, REST shape", "/users?per_page=100&shape=rest", 100
        ),
        floor("floor-me", "one user by id", f"/me?id={admin.user_id}"),
        post(
            "stock-20",
            "stock",
            "stock Strawberry: users(perPage: 20)",
            users_body(20),
            "floor-20",
            20,
            connections=STOCK_CONNECTIONS,
        ),
        post(
            "stock-100",
            "stock",
            "stock Strawberry: users(perPage: 100)",
            users_body(100),
            "floor-100",
            100,
            connections=STOCK_CONNECTIONS,
        ),
    ]
    for server, tag in [("product", ""), *extra]:
        ours = f"ours{tag}:"
        found += [
            post(
                f"{server}-graphql-20",
                server,
                f"{ours} GraphQL users(perPage: 20), cache hit",
                users_body(20),
                "floor-20",
                20,
            ),
            post(
                f"{server}-graphql-100",
                server,
                f"{ours} GraphQL users(perPage: 100), cache hit",
                users_body(100),
                "floor-100",
                100,
            ),
            rest(f"{server}-rest-100", server, f"{ours} REST GET /users?per_page=100, cache hit"),
            post(f"{server}-me", server, f"{ours} GraphQL me", graphql(ME_DOC), "floor-me", None),
        ]
    found += [
        post(
            "nocache-graphql-100",
            "nocache",
            "ours: GraphQL users(perPage: 100), cache off (CACHE_TTL=0)",
            users_body(100),
            "floor-100",
            100,
        ),
        rest("nocache-rest-100", "nocache", "ours: REST GET /users?per_page=100, cache off"),
    ]
    if users >= 1_000_000:
        deep = users // 20
        found += [
            post(
                "deep-page-1",
                "nocache",
                "ours: users(page: 1, perPage: 20), cache off",
                users_body(20),
                None,
                20,
                connections=4,
            ),
            post(
                "deep-page-last",
                "nocache",
                f"ours: users(page: {deep:,}, perPage: 20), cache off",
                users_body(20, deep),
                "deep-page-1",
                20,
                connections=4,
            ),
            *(
                [
                    post(
                        "deep-cursor-last",
                        "nocache",
                        f"ours: users(after: <cursor of row {(deep - 1) * 20:,}>, perPage: 20), "
                        "cache off: the same last page by cursor",
                        users_after_body(20, deep_cursor),
                        "deep-page-1",
                        20,
                        connections=4,
                    )
                ]
                if deep_cursor
                else []
            ),
            floor(
                "floor-deep-last",
                f"users page {deep:,} of 20",
                f"/users?per_page=20&page={deep}",
                20,
                floor="floor-20",
                connections=4,
            ),
        ]
    login = graphql(LOGIN_DOC, {"email": admin.email, "password": admin.password})
    found.append(
        post(
            "login",
            "login",
            "ours: GraphQL login (argon2id, OWASP profile)",
            login,
            None,
            None,
            unit="logins/s",
            connections=4,
        )
    )
    return found  # fmt: skip


# --- processes ------------------------------------------------------------------------------


def previous_database(redis_url: str) -> str:
    """The same Redis server, the database numbered one less (db 12 -> 11, 0 -> 15)."""
    url = make_url(redis_url.replace("redis://", "redis+x://", 1))
    number = int(url.database or 0)
    other = url.set(database=str((number - 1) % 16)).render_as_string(hide_password=False)
    return other.replace("redis+x://", "redis://", 1)


def check_tools() -> None:
    missing = [tool for tool in ("wrk", "taskset") if shutil.which(tool) is None]
    if missing:
        print(
            f"bench needs {' and '.join(missing)}: on Debian/Ubuntu `sudo apt-get install -y wrk` "
            "(taskset is in util-linux)",
            file=sys.stderr,
        )
        raise SystemExit(2)
    if (os.cpu_count() or 1) < 2:
        print("bench pins the server and wrk to separate cores and needs 2 CPUs", file=sys.stderr)
        raise SystemExit(2)


def http(
    method: str, url: str, body: str = "", token: str = "", timeout: float = 30.0
) -> tuple[int, bytes]:
    headers = {"User-Agent": UA, "Accept": "application/json"}
    if body:
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
        url, data=body.encode() if body else None, headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as error:
        return int(error.code), bytes(error.read())


class Server:
    """One server under test, pinned to SERVER_CORE, logging to var/bench/<name>.log."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], cwd: Path, port: int):
        self.name, self.port = name, port
        self.log = OUT / f"{name}.log"
        with socket.socket() as probe:
            if probe.connect_ex((HOST, port)) == 0:
                raise SystemExit(f"port {port} is in use (another bench run?); try --port")
        self.process = subprocess.Popen(
            ["taskset", "-c", SERVER_CORE, *command],
            env=env,
            cwd=cwd,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{name} server exited at start; see {self.log}")
            try:
                if http("GET", self.url("/health"), timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"{name} server did not answer /health in 60 s; see {self.log}")

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wrk(
    url: str, scenario: Scenario, token: str, seconds: float, connections: int
) -> dict[str, int]:
    env = dict(os.environ)
    env.update(
        BENCH_METHOD=scenario.method,
        BENCH_BODY=scenario.body,
        BENCH_TOKEN=token if scenario.auth else "",
        BENCH_UA=UA,
    )
    command = [
        "taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
        "--timeout", "10s", "-s", str(LUA), url,
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            parsed: dict[str, int] = json.loads(line.removeprefix("BENCH_RESULT "))
            return parsed
    raise SystemExit(f"wrk gave no result for {scenario.key}:\n{done.stdout}\n{done.stderr}")


# --- the run --------------------------------------------------------------------------------


class Runner:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.mysql = args.backend == "mysql"
        self.database_url: str = args.database_url or (
            DEFAULT_MYSQL if self.mysql else f"sqlite:///{OUT / 'bench.db'}"
        )
        self.redis_url: str | None = (args.redis_url or DEFAULT_REDIS) if self.mysql else None
        self.nocache_redis_url = previous_database(self.redis_url) if self.redis_url else None
        # Made for this run and never stored: the servers sign and check tokens with it.
        self.secret = secrets.token_urlsafe(48)
        self.results: dict[str, Result] = {}
        self.token = ""
        self.baseline_dir: Path | None = None
        self.variants: dict[str, dict[str, str]] = {}
        for spec in args.variant or ():
            name, _, assignments = spec.partition(":")
            pairs = (item.partition("=") for item in assignments.split(",") if item)
            self.variants[name] = {key: value for key, _, value in pairs}

    # Environments of the servers under test --------------------------------------------------

    def product_env(self, **overrides: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            APP_ENV="prod",
            DATABASE_URL=self.database_url,
            JWT_SECRET=self.secret,
            SECRET_KEY=self.secret,
            ACCESS_TOKEN_EXPIRES="86400",
            SHUTDOWN_DRAIN_SECONDS="0",
            EXPORT_DIR=str(OUT / "exports"),
            PYTHONDONTWRITEBYTECODE="1",
        )
        env.pop("REDIS_URL", None)
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        env.update(overrides)
        return env

    def server_env(self, name: str) -> dict[str, str]:
        if name.startswith("variant-"):
            return self.product_env(**self.variants[name.removeprefix("variant-")])
        if name == "nocache":
            # A Redis database of its own, so that --baseline runs of commits before the fix
            # (CACHE_TTL=0 still read the cache) are not served the cached server's pages.
            return self.product_env(CACHE_TTL="0", REDIS_URL=self.nocache_redis_url or "")
        if name == "login":
            return self.product_env(
                LOGIN_RATE_LIMIT_ACCOUNT="1000000/minute", LOGIN_RATE_LIMIT_IP="1000000/minute"
            )
        return self.product_env()

    def settings(self) -> Settings:
        return Settings.from_env(self.product_env())

    def start(self, name: str, port: int) -> Server:
        python = sys.executable
        cwd = ROOT
        if name in ("floor", "stock"):
            command = [python, "-m", "bench.serve", name, "--port", str(port)]
        else:
            # The product as `manage.py serve` runs it; works in any checkout (see --baseline).
            launch = (
                "from core.settings import Settings; from server.main import serve; "
                f"serve(Settings.from_env(), {HOST!r}, {port})"
            )
            command = [python, "-c", launch]
            if name == "baseline":
                assert self.baseline_dir is not None
                cwd = self.baseline_dir
        return Server(name, command, self.server_env(name), cwd, port)

    # Steps -----------------------------------------------------------------------------------

    def prepare(self) -> seed.Admin:
        OUT.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        seed.prepare(self.database_url, self.args.users)
        for url in (self.redis_url, self.nocache_redis_url):
            if url:
                import redis

                client = redis.Redis.from_url(url)
                client.flushdb()  # the bench's own Redis databases: stale pages would be served
                client.close()
        admin = seed.create_admin(self.settings(), UA)
        self.token = admin.token
        print(f"database ready in {time.perf_counter() - started:.1f} s")
        return admin

    def check(self, server: Server, scenario: Scenario) -> str:
        """One request before the load: the answer must be right, or the numbers mean nothing."""
        token = self.token if scenario.auth else ""
        status, raw = http(scenario.method, server.url(scenario.path), scenario.body, token)
        if status != 200:
            raise SystemExit(f"{scenario.key}: HTTP {status}: {raw[:300]!r}")
        answer = json.loads(raw)
        if answer.get("errors"):
            raise SystemExit(f"{scenario.key}: errors: {answer['errors']}")
        if scenario.expect_items is not None:
            data = answer["data"]
            items = data["items"] if "items" in data else data["users"]["items"]
            if len(items) != scenario.expect_items:
                raise SystemExit(f"{scenario.key}: {len(items)} items, not {scenario.expect_items}")
            if "users" in data and items[-1]["createdBy"] is None:
                raise SystemExit(f"{scenario.key}: createdBy did not resolve")
        return f"{len(raw):,} B"

    def measure(self, server: Server, scenario: Scenario, warm: bool) -> Result:
        size = self.check(server, scenario)
        connections = scenario.connections or self.args.connections
        url = server.url(scenario.path)
        if warm and self.args.warmup > 0:
            wrk(url, scenario, self.token, self.args.warmup, connections)
        profiler = self.profiler(server, scenario) if warm else None
        raw = wrk(url, scenario, self.token, self.args.duration, connections)
        if profiler is not None:
            profiler.wait()
            print(summarise_profile(OUT / f"profile-{scenario.key}.txt"), flush=True)
        errors = sum(raw[k] for k in ("connect", "read", "write", "status", "timeout"))
        result = Result(
            scenario,
            rps=raw["requests"] / (raw["duration_us"] / 1e6),
            p50_ms=raw["p50_us"] / 1000,
            p99_ms=raw["p99_us"] / 1000,
            requests=raw["requests"],
            errors=errors,
            note=f"{size}, c={connections}" + (f", {errors} errors" if errors else ""),
        )
        print(
            f"  {scenario.key:<24} {result.rps:>9,.1f} {scenario.unit:<8} "
            f"p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms  ({result.note})",
            flush=True,
        )
        return result

    def profiler(self, server: Server, scenario: Scenario) -> subprocess.Popen[bytes] | None:
        """py-spy on the server during the measured run of a scenario named by --profile."""
        if not any(k in scenario.key for k in self.args.profile or ()):
            return None
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if not Path(py_spy).exists():
            print("  (--profile needs py-spy: pip install py-spy)", flush=True)
            return None
        out = OUT / f"profile-{scenario.key}.txt"
        command = [
            py_spy, "record", "-p", str(server.process.pid), "-d", str(max(1, round(self.args.duration))),
            "-r", "250", "-f", "raw", "-o", str(out),
        ]  # fmt: skip
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def export(self, admin: seed.Admin) -> None:
        out = OUT / "export.csv"
        command = ["taskset", "-c", SERVER_CORE, sys.executable, "-m", "bench.export_probe"]
        started = time.perf_counter()
        process = subprocess.Popen(
            [*command, str(out), str(admin.user_id)],
            env=self.product_env(),
            cwd=ROOT,
            stdout=subprocess.PIPE,
        )
        assert process.stdout is not None
        printed = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        if process.returncode != 0:
            raise SystemExit(f"export probe failed with {process.returncode}")
        report = json.loads(printed)
        out.unlink(missing_ok=True)
        scenario = Scenario(
            "export", "-", f"ours: CSV export of {report['rows']:,} users", "", unit="rows/s"
        )
        peak_mib = usage.ru_maxrss / 1024  # KiB on Linux
        self.results["export"] = Result(
            scenario,
            rps=report["rows"] / report["seconds"],
            note=(
                f"{report['seconds']:.1f} s ({wall:.1f} s with start-up), "
                f"{report['bytes'] / 2**20:,.0f} MiB, peak RSS {peak_mib:,.0f} MiB"
            ),
            extra={**report, "peak_rss_mib": peak_mib, "wall_seconds": wall},
        )
        print(f"  export: {self.results['export'].note}", flush=True)

    def run(self) -> None:
        admin = self.prepare()
        extra = [(f"variant-{name}", f" [{name}]") for name in self.variants]
        if self.baseline_dir is not None:
            extra.insert(0, ("baseline", f" @{self.args.baseline}"))
        deep_cursor = None
        if self.args.users >= 1_000_000:
            deep_cursor = seed.cursor_after(self.database_url, self.args.users - 20)
        wanted = scenarios(self.args.users, admin, extra, deep_cursor)
        if self.args.only:
            keep = tuple(self.args.only)
            wanted = [
                s for s in wanted if s.key.startswith("floor") or any(k in s.key for k in keep)
            ]
        # Every server runs from the start (idle ones cost nothing), so each round measures all
        # scenarios close together in time: noise from the shared machine hits them alike.
        names = list(dict.fromkeys(s.server for s in wanted))
        servers: dict[str, Server] = {}
        try:
            for offset, name in enumerate(names):
                servers[name] = self.start(name, self.args.port + offset)
            rounds: dict[str, list[Result]] = {s.key: [] for s in wanted}
            for number in range(1, self.args.rounds + 1):
                print(f"[round {number} of {self.args.rounds}]", flush=True)
                for scenario in wanted:
                    result = self.measure(servers[scenario.server], scenario, warm=number == 1)
                    rounds[scenario.key].append(result)
        finally:
            for server in servers.values():
                server.stop()
        for key, results in rounds.items():
            self.results[key] = median_of(results)
        if not self.args.only or any("export" in k for k in self.args.only):
            print("[export]", flush=True)
            self.export(admin)
        self.report(admin)

    # The table -------------------------------------------------------------------------------

    def slope(self, prefix: str) -> float | None:
        """µs per added user from `perPage: 20` to `perPage: 100`: the difference of the time
        per request (1 / req/s: one worker, saturated) over the 80 users."""
        small, large = self.results.get(f"{prefix}-20"), self.results.get(f"{prefix}-100")
        if not small or not large or not small.rps or not large.rps:
            return None
        return (1 / large.rps - 1 / small.rps) / 80 * 1e6

    def ratio(self, key: str, to: str) -> float | None:
        a, b = self.results.get(key), self.results.get(to)
        return a.rps / b.rps if a and b and b.rps else None

    def report(self, admin: seed.Admin) -> None:
        lines = [
            "| scenario | req/s | p50 ms | p99 ms | × floor | floor (same run) | answer, load |",
            "|---|---:|---:|---:|---:|---|---|",
        ]
        for result in self.results.values():
            s = result.scenario
            ratio = self.ratio(s.key, s.floor) if s.floor else None
            if s.key == "export":
                lines.append(f"| {s.label} | {result.rps:,.0f} rows/s | | | | | {result.note} |")
                continue
            unit = "" if s.unit == "req/s" else f" {s.unit}"
            lines.append(
                f"| {s.label} | {result.rps:,.1f}{unit} | {result.p50_ms:.2f} | "
                f"{result.p99_ms:.2f} | {'' if ratio is None else f'{ratio:.2f}'} | "
                f"{s.floor or ''} | {result.note} |"
            )
        if self.args.users < 1_000_000:
            lines.append(
                f"| page 1 vs deep page on 1,000,000 users | skipped (run with "
                f"--users 1000000; this run had {self.args.users:,}) | | | | | |"
            )
        table = "\n".join(lines)
        targets = self.targets()
        header = (
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, backend {self.args.backend}, "
            f"{self.args.users:,} users, {self.args.duration:g} s per scenario "
            f"(+{self.args.warmup:g} s warm-up), wrk -t1 -c{self.args.connections} on core "
            f"{LOAD_CORE}, one uvicorn worker on core {SERVER_CORE}; {platform.python_version()}"
        )
        print("\n" + header + "\n\n" + table + "\n\nTargets (ratios from this run):\n" + targets)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        (OUT / f"results-{stamp}.md").write_text(header + "\n\n" + table + "\n\n" + targets + "\n")
        raw = {
            key: {
                "rps": r.rps,
                "p50_ms": r.p50_ms,
                "p99_ms": r.p99_ms,
                "requests": r.requests,
                "errors": r.errors,
                "note": r.note,
                **r.extra,
            }
            for key, r in self.results.items()
        }
        (OUT / f"results-{stamp}.json").write_text(json.dumps(raw, indent=2))
        print(f"\n(saved to {OUT.relative_to(ROOT)}/results-{stamp}.md and .json)")

    def targets(self) -> str:
        rows = []

        def target(text: str, value: float | None, goal: float, higher: bool = True) -> None:
            if value is None:
                rows.append(f"- {text}: not measured in this run")
                return
            met = value >= goal if higher else value <= goal
            rows.append(f"- {text}: {value:.2f} ({'met' if met else 'NOT met'})")

        target(
            "GraphQL users(perPage: 100) ≥ 25× stock",
            self.ratio("product-graphql-100", "stock-100"),
            25,
        )
        target(
            "GraphQL users(perPage: 100), cache hit, ≥ 0.75× floor",
            self.ratio("product-graphql-100", "floor-100"),
            0.75,
        )
        target(
            "GraphQL users(perPage: 100), cache off, ≥ 0.5× floor",
            self.ratio("nocache-graphql-100", "floor-100"),
            0.5,
        )
        ours, floor = self.slope("product-graphql"), self.slope("floor")
        if ours is not None and floor is not None:
            rows.append(
                f"- slope, each added user (perPage 20 → 100, 1/req/s of one saturated worker): "
                f"ours {ours:.1f} µs, floor {floor:.1f} µs"
            )
        target(
            "slope per added user ≤ 3× the floor's",
            ours / floor if ours is not None and floor else None,
            3,
            higher=False,
        )
        target("GraphQL me ≥ 0.4× floor-me", self.ratio("product-me", "floor-me"), 0.4)
        target(
            "REST GET /users ≥ 0.8× floor", self.ratio("product-rest-100", "floor-rest-100"), 0.8
        )
        target(
            "REST GET /users, cache off, ≥ 0.8× floor",
            self.ratio("nocache-rest-100", "floor-rest-100"),
            0.8,
        )
        deep = self.ratio("deep-page-1", "deep-cursor-last")
        target(
            "deep page (by cursor) within 2× of page 1 (page-1 req/s ÷ deep req/s ≤ 2)",
            deep,
            2,
            higher=False,
        )
        target(
            "deep page by number within 2× of page 1 (OFFSET: for reference)",
            self.ratio("deep-page-1", "deep-page-last"),
            2,
            higher=False,
        )
        export = self.results.get("export")
        if export is not None:
            rows_done = int(export.extra["rows"])
            peak = float(export.extra["peak_rss_mib"])
            verdict = "met" if peak < 200 else "NOT met"
            scope = "" if rows_done >= 1_000_000 else f" (only {rows_done:,} rows in this run)"
            rows.append(f"- export peak RSS < 200 MB: {peak:,.0f} MiB, {verdict}{scope}")
        return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=("mysql", "sqlite"), default="mysql")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of load per scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load before each")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds over all scenarios; medians are reported"
    )
    parser.add_argument("--quick", action="store_true", help="10,000 users, 3 s per scenario")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help=f"default BENCH_DATABASE_URL, else {DEFAULT_MYSQL} (its name must contain 'bench')",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL"),
        help=f"default BENCH_REDIS_URL, else {DEFAULT_REDIS}; it and the db before it (cache-off server) are flushed",
    )
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument(
        "--only",
        action="append",
        help="scenario keys containing this (repeatable); floors always run",
    )
    parser.add_argument(
        "--profile",
        action="append",
        metavar="KEY",
        help="py-spy the server during scenarios whose key contains KEY (first round)",
    )
    parser.add_argument(
        "--baseline",
        metavar="GIT_REF",
        help="also run the product at this commit (a git worktree), side by side",
    )
    parser.add_argument(
        "--variant",
        action="append",
        metavar="NAME:KEY=VALUE[,KEY=VALUE]",
        help="also run the product with these settings, side by side (e.g. pool:DB_POOL_SIZE=20)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.duration, args.warmup, args.rounds = 10_000, 3.0, 1.0, 1
    check_tools()
    if make_url(args.database_url or DEFAULT_MYSQL).drivername.startswith("sqlite"):
        args.backend = "sqlite"
    runner = Runner(args)
    if args.baseline:
        runner.baseline_dir = OUT / "baseline"
        worktree("remove", "--force", str(runner.baseline_dir))
        worktree("add", "--detach", str(runner.baseline_dir), args.baseline, check=True)
    try:
        runner.run()
    finally:
        if runner.baseline_dir is not None:
            worktree("remove", "--force", str(runner.baseline_dir))


def worktree(*args: str, check: bool = False) -> None:
    """`git worktree ...` in this repository (the baseline checkout lives under var/bench)."""
    subprocess.run(["git", "worktree", *args], cwd=ROOT, capture_output=True, check=check)


if __name__ == "__main__":
    main()
