"""The export storage backends in tests: a real S3 API (moto's server, a separate process on
loopback), settings for each backend, and what a backend holds, read over its own connection."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from core.settings import Settings

STORAGES = ["local", "database", "s3"]
S3_KEYS = {"export_s3_access_key_id": "testing", "export_s3_secret_access_key": "testing"}


@contextmanager
def moto_server(port: int) -> Iterator[str]:
    """moto's S3 server on 127.0.0.1:`port` until the block ends; yields its endpoint URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{endpoint}/moto-api/", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "moto's server did not start"
                time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        process.wait(10)


def s3_client(settings: Settings) -> Any:
    import boto3

    return boto3.session.Session().client(
        "s3",
        endpoint_url=settings.export_s3_endpoint_url,
        region_name=settings.export_s3_region,
        aws_access_key_id=settings.export_s3_access_key_id,
        aws_secret_access_key=settings.export_s3_secret_access_key,
    )


def with_storage(settings: Settings, storage: str, s3_endpoint: str | None) -> Settings:
    """`settings` on one backend; on s3, a fresh bucket of its own."""
    if storage != "s3":
        return settings.with_(export_storage=storage)
    assert s3_endpoint is not None
    chosen = settings.with_(
        export_storage="s3",
        export_s3_bucket=f"exports-{uuid.uuid4().hex[:12]}",
        export_s3_endpoint_url=s3_endpoint,
        **S3_KEYS,
    )
    s3_client(chosen).create_bucket(Bucket=chosen.export_s3_bucket)
    return chosen


def storage_env(settings: Settings) -> dict[str, str]:
    """The storage settings as environment variables, for the processes a test starts."""
    env = {"EXPORT_DIR": settings.export_dir, "EXPORT_STORAGE": settings.export_storage}
    if settings.export_storage == "s3":
        env |= {
            "EXPORT_S3_BUCKET": settings.export_s3_bucket,
            "EXPORT_S3_PREFIX": settings.export_s3_prefix,
            "EXPORT_S3_ENDPOINT_URL": settings.export_s3_endpoint_url or "",
            "EXPORT_S3_REGION": settings.export_s3_region,
            "EXPORT_S3_ACCESS_KEY_ID": settings.export_s3_access_key_id or "",
            "EXPORT_S3_SECRET_ACCESS_KEY": settings.export_s3_secret_access_key or "",
        }
    return env


async def stored_names(services: Any) -> list[str]:
    """Every file name the backend holds (temporary ones included), read behind its back."""
    settings: Settings = services.settings
    if settings.export_storage == "local":
        folder = Path(settings.export_dir)
        return sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    if settings.export_storage == "database":
        from sqlalchemy import text

        async with services.db.transaction() as session:
            rows = await session.execute(text("SELECT DISTINCT name FROM export_chunks"))
            return sorted(str(name) for (name,) in rows)
    listed = s3_client(settings).list_objects_v2(
        Bucket=settings.export_s3_bucket, Prefix=settings.export_s3_prefix
    )
    prefix = len(settings.export_s3_prefix)
    return sorted(item["Key"][prefix:] for item in listed.get("Contents", []))


async def stored_bytes(services: Any, name: str) -> bytes:
    """A stored file's bytes, through the backend's own reader."""
    stream = await services.exports.open(name)
    assert stream is not None, f"{name} is not stored"
    return b"".join([chunk async for chunk in stream])
