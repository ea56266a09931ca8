"""Export files as objects in an S3-compatible store (AWS S3, MinIO, Ceph, moto's server...).

boto3 is synchronous: each call runs in a worker thread. A save is a multipart upload of
PART_SIZE pieces (S3's minimum is 5 MiB but for the last), so the object appears whole when the
upload completes, or not at all (a failed upload is aborted). A read streams the body.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from core.settings import Settings
from persistence.export_storage import CHUNK_SIZE, rechunked

PART_SIZE = 8 * 1024 * 1024
_ABSENT = {"NoSuchKey", "404", "NotFound"}


class S3Storage:
    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=settings.export_s3_endpoint_url,
            region_name=settings.export_s3_region,
            aws_access_key_id=settings.export_s3_access_key_id,
            aws_secret_access_key=settings.export_s3_secret_access_key,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5),
        )
        return cls(client, settings.export_s3_bucket, settings.export_s3_prefix)

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    async def save(self, name: str, chunks: AsyncIterator[bytes]) -> None:
        call, key = self._call, self.key(name)
        upload = await call("create_multipart_upload", Key=key, ContentType="text/csv")
        upload_id, parts = upload["UploadId"], []
        try:
            async for number, piece in _numbered(rechunked(chunks, PART_SIZE)):
                sent = await call(
                    "upload_part", Key=key, UploadId=upload_id, PartNumber=number, Body=piece
                )
                parts.append({"PartNumber": number, "ETag": sent["ETag"]})
            if not parts:  # S3 completes no upload of zero parts
                sent = await call(
                    "upload_part", Key=key, UploadId=upload_id, PartNumber=1, Body=b""
                )
                parts.append({"PartNumber": 1, "ETag": sent["ETag"]})
            await call(
                "complete_multipart_upload",
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            await call("abort_multipart_upload", Key=key, UploadId=upload_id)
            raise

    async def open(self, name: str) -> AsyncIterator[bytes] | None:
        try:
            answer = await self._call("get_object", Key=self.key(name))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _ABSENT:
                return None
            raise
        return _read(answer["Body"])

    async def delete(self, name: str) -> None:
        await self._call("delete_object", Key=self.key(name))  # S3 deletes are idempotent

    async def _call(self, method: str, **arguments: Any) -> Any:
        return await asyncio.to_thread(
            getattr(self.client, method), Bucket=self.bucket, **arguments
        )


async def _read(body: Any) -> AsyncIterator[bytes]:
    pieces = body.iter_chunks(CHUNK_SIZE)
    try:
        while chunk := await asyncio.to_thread(next, pieces, b""):
            yield chunk
    finally:
        body.close()


async def _numbered(pieces: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, bytes]]:
    number = 0
    async for piece in pieces:
        number += 1
        yield number, piece
