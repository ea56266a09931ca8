"""What operators load into their tools: the alerting rules (promtool), and a real Prometheus on
loopback scraping a running API and a worker, holding the series the dashboard's queries need."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.settings import Settings
from tests.conftest import PASSWORD, free_port, seed_accounts
from tests.test_lifecycle import ROOT, ready_status, stop, wait_until
from tests.test_operating import start_worker

OPS = ROOT / "ops"
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }"
# Panels that stay empty until something rare happens (no request was rate limited here).
QUIET = ("rate_limit_rejections_total",)


def tool(name: str) -> str:
    """promtool / prometheus (Debian's `prometheus` package); CI installs it, never skips."""
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed: apt-get install -y prometheus")
        pytest.skip(f"{name} is not installed (apt-get install -y prometheus)")
    return found


def test_alerting_rules_pass_promtool_check_and_unit_tests() -> None:
    promtool = tool("promtool")
    rules = OPS / "prometheus"
    for args in (["check", "rules", "alerts.yml"], ["test", "rules", "alerts.test.yml"]):
        done = subprocess.run([promtool, *args], cwd=rules, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


def dashboard_queries() -> list[str]:
    board = json.loads((OPS / "grafana" / "accounts-graphql.json").read_text())
    return [target["expr"] for panel in board["panels"] for target in panel["targets"]]


def grouping_labels(expr: str) -> set[str]:
    """The labels of the outermost `by (...)`: what the panel's legend shows."""
    groups = re.findall(r"by \(([^)]*)\)", expr)
    return {label.strip() for label in groups[0].split(",")} - {"le"} if groups else set()


def server_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url or "",
        "JWT_SECRET": settings.jwt_secret,
        "SECRET_KEY": settings.secret_key,
        "APP_ENV": "test",
        "PASSWORD_HASH_PROFILE": "fast",
        "EXPORT_DIR": settings.export_dir,
        "RQ_QUEUE": settings.rq_queue,
    }


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[tuple[str, int, int]]:
    """Prometheus on loopback scraping, every second, an API port and a worker port."""
    binary = tool("prometheus")
    api_port, worker_port, port = free_port(), free_port(), free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(OPS / "prometheus" / "alerts.yml")],
        "scrape_configs": [
            {
                "job_name": "accounts-api",
                "static_configs": [{"targets": [f"127.0.0.1:{api_port}"]}],
            },
            {
                "job_name": "accounts-worker",
                "static_configs": [{"targets": [f"127.0.0.1:{worker_port}"]}],
            },
        ],
    }
    (tmp_path / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"http://127.0.0.1:{port}", api_port, worker_port
    finally:
        stop(process)


def query(base: str, expr: str) -> list[dict[str, Any]]:
    reply = httpx.get(f"{base}/api/v1/query", params={"query": expr}, timeout=5).json()
    assert reply["status"] == "success", reply
    result: list[dict[str, Any]] = reply["data"]["result"]
    return result


def traffic(api: str) -> None:
    """What the dashboard shows: GraphQL, REST, a failed sign-in, an export for the worker."""
    ok = httpx.post(
        f"{api}/graphql",
        json={"query": LOGIN, "variables": {"e": "admin@example.com", "p": PASSWORD}},
    ).json()
    token = ok["data"]["login"]["accessToken"]
    httpx.post(
        f"{api}/graphql",
        json={"query": LOGIN, "variables": {"e": "admin@example.com", "p": "not the password"}},
    )
    auth = {"Authorization": f"Bearer {token}"}
    for _ in range(3):
        httpx.post(f"{api}/graphql", json={"query": "query Me { me { id } }"}, headers=auth)
        httpx.get(f"{api}/users/1", headers=auth)
    started = httpx.post(
        f"{api}/graphql", json={"query": "mutation { exportUsers { id } }"}, headers=auth
    ).json()
    assert "errors" not in started, started


@pytest.mark.mysql_only  # the worker needs Redis
def test_a_real_prometheus_scrapes_the_api_and_the_worker_per_process(
    settings: Settings, prometheus: tuple[str, int, int], tmp_path: Path
) -> None:
    base, api_port, worker_port = prometheus
    seed_accounts(settings)
    env = server_env(settings)
    api = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(api_port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    (tmp_path / "worker-metrics").mkdir()
    worker = start_worker(settings, tmp_path / "worker-metrics", worker_port)
    try:
        wait_until(lambda: ready_status(f"http://127.0.0.1:{api_port}") == 200, 30)
        traffic(f"http://127.0.0.1:{api_port}")
        finished = 'export_jobs_total{job="accounts-worker", status="finished"}'
        wait_until(lambda: len(query(base, finished)) == 1, 60)
        wait_until(lambda: len(query(base, "up == 1")) == 2, 30)
        time.sleep(3)  # rate() over the dashboard's windows needs two scrapes after the traffic
        missing = []
        for expr in dashboard_queries():
            concrete = expr.replace("$job", "accounts-.*").replace("$instance", ".+")
            result = query(base, concrete)
            if not result and not any(name in expr for name in QUIET):
                missing.append(expr)
            for series in result:
                assert grouping_labels(expr) <= set(series["metric"]), (expr, series)
        assert not missing, missing
        jobs = {s["metric"]["job"] for s in query(base, "count by (job) (db_pool_waits_total)")}
        assert jobs == {"accounts-api", "accounts-worker"}  # each process group scraped alone
        rules = httpx.get(f"{base}/api/v1/rules", timeout=5).json()["data"]["groups"]
        assert sum(len(group["rules"]) for group in rules) == 8
    finally:
        stop(api)
        stop(worker)
