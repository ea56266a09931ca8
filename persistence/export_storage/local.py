"""Export files in a folder (EXPORT_DIR): one host, or a volume every host mounts."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from persistence.export_storage import CHUNK_SIZE


class LocalStorage:
    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    def path(self, name: str) -> Path:
        return self.folder / name

    async def save(self, name: str, chunks: AsyncIterator[bytes]) -> None:
        """Write to a temporary name and rename: a rerun replaces the file, never appends to it;
        the file is the owner's alone (0600)."""
        final = self.path(name)
        final.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = final.with_suffix(f".{uuid.uuid4().hex[:8]}.part")
        try:
            with _private_file(partial) as out:
                async for chunk in chunks:
                    out.write(chunk)
                out.flush()
                await asyncio.to_thread(os.fsync, out.fileno())
            os.replace(partial, final)
        finally:
            partial.unlink(missing_ok=True)

    async def open(self, name: str) -> AsyncIterator[bytes] | None:
        path = self.path(name)
        if not path.is_file():
            return None
        handle = path.open("rb")  # opened now: a file removed after this still streams whole
        return _read(handle)

    async def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)


async def _read(handle: BinaryIO) -> AsyncIterator[bytes]:
    with handle:
        while chunk := await asyncio.to_thread(handle.read, CHUNK_SIZE):
            yield chunk


def _private_file(path: Path) -> BinaryIO:
    """A new file only its owner may read or write (0600, whatever the umask): the CSV lists
    every user's email. Never an existing file, nor one a symlink points to."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    return os.fdopen(descriptor, "wb")
