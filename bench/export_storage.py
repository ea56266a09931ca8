"""The 1,000,000-row export on each export storage: time and peak RSS of a job that writes the
CSV into the storage and of its download streamed back out (bench/export_probe.py --job, one
process per storage, pinned to core 0). Not part of `make bench`:

    python -m bench.export_storage --users 1000000 --storage local --storage database --storage s3

Seeds (or reuses) the bench database like bench/run.py (its name must contain `bench`); `s3`
runs against moto's S3 server process on a loopback port (the object lives in that process, so
the figure is our process's alone).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import seed
from bench.run import DEFAULT_MYSQL, ROOT, SERVER_CORE
from core.settings import Settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def storage_env(storage: str, folder: Path, endpoint: str | None) -> dict[str, str]:
    env = {"EXPORT_STORAGE": storage, "EXPORT_DIR": str(folder / "exports")}
    if storage == "s3" and endpoint:
        import boto3

        bucket = "bench-exports"
        client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id="bench", aws_secret_access_key="bench",
        )  # fmt: skip
        client.create_bucket(Bucket=bucket)
        env |= {
            "EXPORT_S3_BUCKET": bucket, "EXPORT_S3_ENDPOINT_URL": endpoint,
            "EXPORT_S3_ACCESS_KEY_ID": "bench", "EXPORT_S3_SECRET_ACCESS_KEY": "bench",
        }  # fmt: skip
    return env


def probe(env: dict[str, str], admin_id: int, out: Path) -> dict[str, float]:
    command = ["taskset", "-c", SERVER_CORE, sys.executable, "-m", "bench.export_probe"]
    process = subprocess.Popen(
        [*command, str(out), str(admin_id), "--job"], env=env, cwd=ROOT, stdout=subprocess.PIPE
    )
    assert process.stdout is not None
    printed = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"export probe failed ({env['EXPORT_STORAGE']})")
    report: dict[str, float] = json.loads(printed)
    report["peak_rss_mib"] = usage.ru_maxrss / 1024
    out.unlink(missing_ok=True)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--storage", action="append", choices=("local", "database", "s3"))
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_MYSQL)
    )
    args = parser.parse_args()
    seed.prepare(args.database_url, args.users)
    secret = secrets.token_urlsafe(48)
    env = {**os.environ, "APP_ENV": "prod", "DATABASE_URL": args.database_url,
           "JWT_SECRET": secret, "SECRET_KEY": secret}  # fmt: skip
    env.pop("REDIS_URL", None)
    admin = seed.create_admin(Settings.from_env(env), "bench-export")
    moto = None
    endpoint = None
    if "s3" in (args.storage or []):
        port = free_port()
        moto = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        endpoint = f"http://127.0.0.1:{port}"
        time.sleep(3)
    print("| storage | rows | CSV | write (job) | read (download) | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-export-") as scratch:
            for storage in args.storage or ["local", "database"]:
                folder = Path(scratch) / storage
                folder.mkdir()
                report = probe(
                    {**env, **storage_env(storage, folder, endpoint)},
                    admin.user_id,
                    folder / "out.csv",
                )
                print(
                    f"| {storage} | {report['rows']:,.0f} | {report['bytes'] / 2**20:,.0f} MiB "
                    f"| {report['write_seconds']:.1f} s | {report['read_seconds']:.1f} s "
                    f"| {report['peak_rss_mib']:,.0f} MiB |",
                    flush=True,
                )
    finally:
        if moto is not None:
            moto.terminate()


if __name__ == "__main__":
    main()
