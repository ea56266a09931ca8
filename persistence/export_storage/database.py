"""Export files as chunks in the `export_chunks` table: every host that shares MySQL serves them.

A save writes its chunks under a temporary name, one short transaction per chunk, then renames
them in one transaction: readers see the old file or the new one, never a mix or a partial one.
A read fetches one chunk per query by primary key, so memory holds one chunk, not the file.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from sqlalchemy import delete, select, update

from persistence.db import Database
from persistence.export_storage import CHUNK_SIZE, rechunked
from persistence.models import ExportChunk


class DatabaseStorage:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def save(self, name: str, chunks: AsyncIterator[bytes]) -> None:
        partial = f"{name}.{uuid.uuid4().hex[:8]}.part"
        try:
            seq = 0
            async for piece in rechunked(chunks, CHUNK_SIZE):
                await self._insert(partial, seq, piece)
                seq += 1
            if seq == 0:
                await self._insert(partial, 0, b"")  # an empty file still exists
            async with self.db.transaction() as session:
                await session.execute(delete(ExportChunk).where(ExportChunk.name == name))
                await session.execute(
                    update(ExportChunk).where(ExportChunk.name == partial).values(name=name)
                )
        finally:
            await self.delete(partial)  # nothing left when the rename happened

    async def _insert(self, name: str, seq: int, data: bytes) -> None:
        async with self.db.transaction() as session:
            session.add(ExportChunk(name=name, seq=seq, data=data))

    async def open(self, name: str) -> AsyncIterator[bytes] | None:
        first = await self._chunk(name, 0)
        if first is None:
            return None
        return self._read(name, first)

    async def _read(self, name: str, first: bytes) -> AsyncIterator[bytes]:
        chunk: bytes | None = first
        seq = 0
        while chunk is not None:
            yield chunk
            seq += 1
            chunk = await self._chunk(name, seq)

    async def _chunk(self, name: str, seq: int) -> bytes | None:
        async with self.db.transaction() as session:
            data: bytes | None = await session.scalar(
                select(ExportChunk.data).where(ExportChunk.name == name, ExportChunk.seq == seq)
            )
        return data

    async def delete(self, name: str) -> None:
        async with self.db.transaction() as session:
            await session.execute(delete(ExportChunk).where(ExportChunk.name == name))
