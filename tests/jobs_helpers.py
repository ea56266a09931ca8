"""Running export jobs in tests: a real rq worker on MySQL + Redis, the in-process one otherwise."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.storage_helpers import storage_env

ROOT = Path(__file__).resolve().parent.parent


def rq_worker(
    settings: Any, *, burst: bool = True, extra_env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "JWT_SECRET": settings.jwt_secret,
        "SECRET_KEY": settings.secret_key,
        "APP_ENV": "test",
        "PASSWORD_HASH_PROFILE": "fast",
        **storage_env(settings),
        **(extra_env or {}),
    }
    args = [
        sys.executable,
        "-m",
        "rq.cli",
        "worker",
        "--url",
        settings.redis_url,
        "--worker-class",
        "rq.worker.SimpleWorker" if burst else "rq.Worker",
    ]
    if burst:
        args.append("--burst")
    return subprocess.Popen(
        [*args, settings.rq_queue],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


async def run_jobs(settings: Any, backend: str, **extra_env: str) -> None:
    """Drain the queue: a real rq worker in burst mode on MySQL+Redis; in process otherwise."""
    if backend == "mysql":
        worker = rq_worker(settings, extra_env=extra_env)
        out, _ = await asyncio.to_thread(worker.communicate, timeout=60)
        assert worker.returncode == 0, out.decode()
