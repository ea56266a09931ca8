"""Where finished export CSVs live: one interface, three backends, chosen by EXPORT_STORAGE.

Every backend takes the file as a stream of chunks and gives it back as one, so neither a worker
writing a 1,000,000-row export nor an API instance serving it holds the file in memory, and a
download works from any instance that shares the backend (not only the one that ran the job).
A save replaces a file of the same name as a whole, or leaves it as it was.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from core.settings import Settings
from persistence.db import Database

CHUNK_SIZE = 1024 * 1024  # bytes per stored chunk (database) and per read


class ExportStorage(Protocol):
    async def save(self, name: str, chunks: AsyncIterator[bytes]) -> None:
        """Store every chunk under `name`, visible only once all are stored."""

    async def open(self, name: str) -> AsyncIterator[bytes] | None:
        """The file's chunks, or None when there is no such file."""

    async def delete(self, name: str) -> None:
        """Remove the file; nothing happens when it is already gone."""


def open_storage(settings: Settings, db: Database) -> ExportStorage:
    """The backend EXPORT_STORAGE names (imported here only: boto3 loads for `s3` alone)."""
    if settings.export_storage == "database":
        from persistence.export_storage.database import DatabaseStorage

        return DatabaseStorage(db)
    if settings.export_storage == "s3":
        from persistence.export_storage.s3 import S3Storage

        return S3Storage.from_settings(settings)
    from persistence.export_storage.local import LocalStorage

    return LocalStorage(settings.export_dir)


async def rechunked(chunks: AsyncIterator[bytes], size: int) -> AsyncIterator[bytes]:
    """The same bytes in pieces of `size` (the last one shorter): what a backend stores."""
    buffer = bytearray()
    async for chunk in chunks:
        buffer += chunk
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)
