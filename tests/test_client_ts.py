"""The TypeScript client (client-ts/): installed from its lockfile, built, its generated operations
checked against schema.graphql, its README examples type-checked, and its tests (`npm test`, Node's
own runner) run against this server on both backends.

Node and npm are needed; without them the test is skipped, except under CI=true, where it fails.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import uvicorn

from core.errors import ErrorCode
from core.settings import Settings
from resolvers.accounts import create_account
from resolvers.bootstrap import bootstrap
from server.app import create_app
from tests.conftest import PASSWORD, free_port, serving
from tests.jobs_helpers import rq_worker

PACKAGE = Path(__file__).resolve().parents[1] / "client-ts"
ADMIN = "admin@example.com"


def npm(*args: str, env: dict[str, str] | None = None) -> str:
    """Run an npm command in client-ts; its output, or the test fails with it."""
    executable = shutil.which("npm")
    assert executable is not None, "npm is not on PATH"
    done = subprocess.run(
        [executable, *args],
        cwd=PACKAGE,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"npm {' '.join(args)} failed:\n{output[-8000:]}"
    return output


@pytest.fixture(scope="module")
def client_ts() -> Path:
    """client-ts installed from its lockfile (again only when the lockfile changed), built, its
    generated code fresh, its examples type-checked."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true: node and npm are needed for the client-ts tests")
        pytest.skip("node and npm are not installed")
    installed = PACKAGE / "node_modules" / ".package-lock.json"
    lockfile = PACKAGE / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lockfile.stat().st_mtime:
        npm("ci", "--no-audit", "--no-fund")
    npm("run", "build")
    npm("run", "codegen:check")
    npm("run", "typecheck:examples")
    npm("run", "build:test")
    return PACKAGE


def _seed_admin(settings: Settings) -> None:
    async def seed() -> None:
        async with bootstrap(settings) as services:
            await create_account(services, name="Ada", email=ADMIN, password=PASSWORD, role="admin")

    asyncio.run(seed())


@pytest.fixture
def servers(settings: Settings, backend: str) -> Iterator[tuple[str, str]]:
    """This app on loopback, and its twin on the same database with 3-second access tokens; on
    MySQL + Redis an rq worker runs the exports (the embedded default runs them in process)."""
    _seed_admin(settings)
    short = replace(settings, access_token_expires=3)
    configs = [
        uvicorn.Config(create_app(s), host="127.0.0.1", port=free_port(), log_level="warning")
        for s in (settings, short)
    ]
    worker = rq_worker(settings, burst=False) if backend == "mysql" else None
    if worker is not None and worker.stdout is not None:  # drained, so its log never blocks it
        threading.Thread(target=worker.stdout.read, daemon=True).start()
    try:
        with serving(configs[0]) as url, serving(configs[1]) as short_url:
            yield url, short_url
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)


def test_client_ts_against_the_server(client_ts: Path, servers: tuple[str, str]) -> None:
    url, short_url = servers
    npm(
        "run",
        "test:run",
        env={
            "API_URL": url,
            "SHORT_TOKENS_API_URL": short_url,
            "ADMIN_EMAIL": ADMIN,
            "ADMIN_PASSWORD": PASSWORD,
            "SERVER_ERROR_CODES": json.dumps([code.value for code in ErrorCode]),
        },
    )
