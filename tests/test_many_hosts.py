"""The deployment shape of many hosts: two API instances and two RQ workers, each a separate
process with its own working directory and export folder (nothing on disk shared, as between
machines), sharing only MySQL and Redis. What one host does, the other sees at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from core.settings import Settings
from persistence.db import sync_url
from tests.conftest import PASSWORD, free_port, seed_accounts
from tests.rest_helpers import bearer, data_of, error_of

MANAGE = str(Path(__file__).resolve().parent.parent / "manage.py")
pytestmark = pytest.mark.mysql_only  # a shared cache, limits and queue need Redis
ACCOUNT_BUDGET = 4  # failed sign-ins per account and client: 2 on each host exhaust it


@dataclass
class Host:
    """One machine: an API instance and a worker, started in its own folder."""

    folder: Path
    api: httpx.Client
    processes: list[subprocess.Popen[bytes]]


def host_env(settings: Settings, folder: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "APP_ENV": "test",
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url or "",
        "JWT_SECRET": settings.jwt_secret,
        "SECRET_KEY": settings.secret_key,
        "PASSWORD_HASH_PROFILE": "fast",
        "EXPORT_STORAGE": "database",
        "EXPORT_DIR": str(folder / "exports"),
        "LOGIN_RATE_LIMIT_ACCOUNT": f"{ACCOUNT_BUDGET}/minute",
        "SHUTDOWN_DRAIN_SECONDS": "0",
        # Each host's worker serves its own /metrics; on one machine, each on a port of its own.
        "WORKER_METRICS_PORT": str(free_port()),
        "PROMETHEUS_MULTIPROC_DIR": str(folder / "worker-metrics"),
    }


def start_host(settings: Settings, folder: Path) -> Host:
    folder.mkdir()
    env, port = host_env(settings, folder), free_port()
    log = (folder / "processes.log").open("wb")
    commands = (["serve", "--host", "127.0.0.1", "--port", str(port)], ["worker"])
    processes = [
        subprocess.Popen(
            [sys.executable, MANAGE, *command], cwd=folder, env=env, stdout=log, stderr=log
        )
        for command in commands
    ]
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"User-Agent": "many-hosts"})
    deadline = time.monotonic() + 30
    while True:
        assert all(p.poll() is None for p in processes), (folder / "processes.log").read_text()
        try:
            if api.get("/ready").status_code == 200:
                return Host(folder, api, processes)
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the API instance did not become ready"
        time.sleep(0.1)


def stop_host(host: Host) -> None:
    host.api.close()
    for process in host.processes:
        process.send_signal(signal.SIGTERM)
    for process in host.processes:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def hosts(settings: Settings, tmp_path: Path) -> Iterator[tuple[Host, Host]]:
    seed_accounts(settings)
    started: list[Host] = []
    try:
        for name in ("host-a", "host-b"):
            started.append(start_host(settings, tmp_path / name))
        yield started[0], started[1]
    finally:
        for host in started:
            stop_host(host)


def login(api: httpx.Client, email: str, password: str = PASSWORD) -> dict[str, Any]:
    pair: dict[str, Any] = data_of(
        api.post("/auth/login", json={"email": email, "password": password})
    )
    return pair


def test_logout_on_one_host_is_seen_by_the_other(hosts: tuple[Host, Host]) -> None:
    a, b = hosts
    token = login(a.api, "user@example.com")["access_token"]
    assert data_of(b.api.get("/auth/me", headers=bearer(token)))["email"] == "user@example.com"
    data_of(a.api.post("/auth/logout", headers=bearer(token)))
    error_of(b.api.get("/auth/me", headers=bearer(token)), 401, "TOKEN_REVOKED")


def test_refresh_reuse_is_detected_across_hosts(hosts: tuple[Host, Host]) -> None:
    a, b = hosts
    first = login(a.api, "user@example.com")
    rotated = data_of(b.api.post("/auth/refresh", json={"refresh_token": first["refresh_token"]}))
    replay = a.api.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    error_of(replay, 401, "TOKEN_REVOKED")
    # The reuse ended the whole session: the rotated pair is dead on both hosts.
    error_of(b.api.get("/auth/me", headers=bearer(rotated["access_token"])), 401, "TOKEN_REVOKED")
    again = b.api.post("/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    error_of(again, 401, "TOKEN_REVOKED")


def test_sign_in_budgets_add_up_across_hosts(hosts: tuple[Host, Host]) -> None:
    a, b = hosts
    wrong = {"email": "user@example.com", "password": "not the password at all"}
    for api in (a.api, b.api) * (ACCOUNT_BUDGET // 2):
        error_of(api.post("/auth/login", json=wrong), 401, "INVALID_CREDENTIALS")
    for api in (a.api, b.api):  # each host alone counted only half of the budget
        refused = api.post("/auth/login", json=wrong)
        error_of(refused, 429, "RATE_LIMITED")
        assert int(refused.headers["Retry-After"]) > 0


def test_a_write_on_one_host_is_read_at_once_on_the_other(hosts: tuple[Host, Host]) -> None:
    a, b = hosts
    admin = bearer(login(a.api, "admin@example.com")["access_token"])
    users = data_of(b.api.get("/users?per_page=10", headers=admin))["items"]  # cached on b
    user = next(u for u in users if u["email"] == "user@example.com")
    data_of(b.api.get(f"/users/{user['id']}", headers=admin))  # cached too
    data_of(a.api.patch(f"/users/{user['id']}", json={"name": "Renamed On A"}, headers=admin))
    assert data_of(b.api.get(f"/users/{user['id']}", headers=admin))["name"] == "Renamed On A"
    listed = data_of(b.api.get("/users?per_page=10", headers=admin))["items"]
    assert {u["email"]: u["name"] for u in listed}["user@example.com"] == "Renamed On A"


def test_export_jobs_run_once_and_download_identically_from_both_hosts(
    hosts: tuple[Host, Host], settings: Settings
) -> None:
    a, b = hosts
    admin = bearer(login(a.api, "admin@example.com")["access_token"])
    jobs = [
        data_of(host.api.post("/admin/users/export", headers=admin), 202)["job_id"]
        for host in (a, b, a, b, a, b)
    ]
    for job_id in jobs:
        wait_until_finished(b.api, admin, job_id)
    for job_id in jobs:
        from_a = a.api.get(f"/admin/jobs/{job_id}/download", headers=admin)
        from_b = b.api.get(f"/admin/jobs/{job_id}/download", headers=admin)
        assert from_a.status_code == from_b.status_code == 200, (from_a.text, from_b.text)
        assert from_a.content == from_b.content
        assert from_a.content.count(b"\r\n") == 3  # the header and both accounts
    engine = create_engine(sync_url(settings.database_url))
    with engine.connect() as conn:
        attempts = conn.execute(text("SELECT status, attempts FROM export_jobs")).all()
    engine.dispose()
    assert sorted(map(tuple, attempts)) == [("finished", 1)] * len(jobs)  # each ran exactly once
    for host in (a, b):  # nothing was written to either host's disk
        assert not (host.folder / "exports").exists() or not any(
            (host.folder / "exports").iterdir()
        )


def wait_until_finished(api: httpx.Client, headers: dict[str, str], job_id: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        job = data_of(api.get(f"/admin/jobs/{job_id}", headers=headers))
        if job["status"] == "finished":
            return
        assert job["status"] in ("queued", "started"), job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def test_the_worker_health_check_checks_the_worker(settings: Settings, tmp_path: Path) -> None:
    """`manage.py worker --check` (the container's health check): Redis answering is not
    enough, a worker of this host must be registered with a fresh heartbeat."""
    env = host_env(settings, tmp_path)

    def check() -> int:
        command = [sys.executable, MANAGE, "worker", "--check"]
        return subprocess.run(command, env=env, capture_output=True, timeout=30).returncode

    assert check() == 1  # Redis answers, no worker runs
    worker = subprocess.Popen(
        [sys.executable, MANAGE, "worker"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while check() != 0:
            assert worker.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
    assert check() == 1  # a stopped worker unregisters
