"""Operating it: metrics per process (the API's workers, the RQ worker and its horses), probes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.metrics_dir import VARIABLE, prepare_metrics_dir
from core.settings import Settings
from tests.conftest import Accounts, GraphQLClient, free_port
from tests.rest_helpers import data_of, error_of
from tests.tcp_proxy import TCPProxy
from tests.test_exports import START, wait_for_status
from tests.test_lifecycle import ROOT, proxied, ready_status, served, start_server, stop, wait_until

__all__ = ["proxied"]  # the fixture, shared with test_lifecycle


def pids_of(folder: Path, kind: str) -> set[int]:
    """Processes with a metric file of `kind` (`counter`, `gauge_livesum`) in `folder`."""
    return {int(p.stem.rsplit("_", 1)[1]) for p in folder.glob(f"{kind}_*.db")}


def test_the_metrics_folder_is_emptied_at_start_or_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale, other = tmp_path / "counter_4242.db", tmp_path / "notes.txt"
    stale.write_bytes(b"values of a process that is long gone")
    other.write_text("not ours")
    monkeypatch.setenv(VARIABLE, str(tmp_path))
    assert prepare_metrics_dir(required=False) == tmp_path
    assert not stale.exists()  # its counts would be added to this run's
    assert other.exists()  # the folder may hold more than prometheus-client's files
    monkeypatch.delenv(VARIABLE)
    assert prepare_metrics_dir(required=False) is None
    made = prepare_metrics_dir(required=True)
    assert made is not None and made.is_dir() and os.environ[VARIABLE] == str(made)


async def test_metrics_are_negotiated_by_prometheus_client(client: httpx.AsyncClient) -> None:
    await client.get("/health")
    plain = await client.get("/metrics")
    assert plain.headers["content-type"].startswith("text/plain")
    assert "http_requests_total{" in plain.text
    open_metrics = await client.get(
        "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert open_metrics.headers["content-type"].startswith("application/openmetrics-text")
    assert open_metrics.text.rstrip().endswith("# EOF")
    compressed = await client.get("/metrics", headers={"Accept-Encoding": "gzip"})
    assert compressed.headers.get("content-encoding") == "gzip"


async def test_a_wrong_metrics_token_is_refused(settings: Settings) -> None:
    async with served(settings.with_(metrics_token="t" * 32)) as (_, http, _gql):
        error_of(
            await http.get("/metrics", headers={"Authorization": "Bearer x"}), 403, "FORBIDDEN"
        )
        ok = await http.get("/metrics", headers={"Authorization": "Bearer " + "t" * 32})
        assert ok.status_code == 200 and "http_requests_total" in ok.text


@pytest.mark.mysql_only
async def test_livez_touches_no_dependency_and_ready_answers_within_a_second(
    proxied: tuple[Settings, TCPProxy, TCPProxy],
) -> None:
    settings, db_proxy, redis_proxy = proxied
    async with served(settings.with_(db_timeout=5.0)) as (_, http, _gql):
        assert data_of(await http.get("/livez")) == {"status": "alive"}
        db_proxy.freeze()  # MySQL hangs; DB_TIMEOUT (5 s) is for requests, not for the probe
        redis_proxy.freeze()
        started = time.monotonic()
        error_of(await http.get("/ready"), 503, "SERVICE_UNAVAILABLE")
        assert time.monotonic() - started < 1.3
        started = time.monotonic()
        assert data_of(await http.get("/livez")) == {"status": "alive"}
        assert time.monotonic() - started < 0.2
        db_proxy.restore()
        redis_proxy.restore()


def test_a_killed_api_worker_is_marked_dead(tmp_path: Path) -> None:
    """The supervisor restarts a killed worker; that worker's live gauges leave /metrics."""
    port, metrics_dir = free_port(), tmp_path / "metrics"
    metrics_dir.mkdir()
    server = start_server(
        tmp_path, port, "--workers", "2", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir)
    )
    try:
        wait_until(lambda: ready_status(f"http://127.0.0.1:{port}") == 200, 30)
        wait_until(lambda: len(pids_of(metrics_dir, "gauge_livesum") - {server.pid}) == 2)
        victim = min(pids_of(metrics_dir, "gauge_livesum") - {server.pid})
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: victim not in pids_of(metrics_dir, "gauge_livesum"), 20)
        wait_until(lambda: len(pids_of(metrics_dir, "gauge_livesum") - {server.pid}) == 2, 30)
    finally:
        stop(server)


def start_worker(settings: Settings, metrics_dir: Path, port: int) -> subprocess.Popen[bytes]:
    """`manage.py worker`, as an operator runs it, serving its metrics on `port`."""
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url or "",
        "JWT_SECRET": settings.jwt_secret,
        "SECRET_KEY": settings.secret_key,
        "APP_ENV": "test",
        "EXPORT_DIR": settings.export_dir,
        "RQ_QUEUE": settings.rq_queue,
        VARIABLE: str(metrics_dir),
        "WORKER_METRICS_PORT": str(port),
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def sample(text: str, prefix: str) -> float | None:
    line = next((x for x in text.splitlines() if x.startswith(prefix)), None)
    return None if line is None else float(line.rsplit(" ", 1)[1])


@pytest.mark.mysql_only
async def test_the_worker_serves_its_own_metrics_with_its_horses_values(
    settings: Settings, gql: GraphQLClient, accounts: Accounts, tmp_path: Path
) -> None:
    port, metrics_dir = free_port(), tmp_path / "worker-metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_4242.db").write_bytes(b"not a metrics file: must be removed")
    admin = await accounts.admin_token()
    job = (await gql(START, {}, token=admin))["data"]["exportUsers"]
    worker = start_worker(settings, metrics_dir, port)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_for_status(gql, admin, job["id"], "FINISHED", timeout=60)
        async with httpx.AsyncClient(base_url=base, timeout=5) as http:
            text = (await http.get("/metrics")).text
            assert (await http.get("/livez")).status_code == 200
        horses = pids_of(metrics_dir, "counter") - {worker.pid}
    finally:
        worker.send_signal(signal.SIGTERM)
        out, _ = await asyncio.to_thread(worker.communicate, timeout=30)
    assert sample(text, 'export_jobs_total{status="finished"}') == 1, out.decode()
    assert "export_queue_depth" in text  # the worker's start-up sweep
    assert horses, "the job ran in a forked horse"
    assert not horses & pids_of(metrics_dir, "gauge_livesum")  # marked dead once it finished
    assert 4242 not in pids_of(metrics_dir, "counter")


def test_worker_metrics_port_is_refused_when_taken(tmp_path: Path, settings: Any) -> None:
    from jobs.metrics import start_metrics_server

    port = free_port()
    first = start_metrics_server(settings.with_(worker_metrics_port=port))
    try:
        with pytest.raises(RuntimeError, match="cannot listen"):
            start_metrics_server(settings.with_(worker_metrics_port=port))
    finally:
        assert first is not None
        first.should_exit = True
