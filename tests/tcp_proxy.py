"""A small asyncio TCP proxy for outage drills: cut (refuse and drop) or freeze (hang) a link."""

from __future__ import annotations

import asyncio
import contextlib


class TCPProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.down = False
        self.frozen = asyncio.Event()
        self.frozen.set()  # set = flowing
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> TCPProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self.frozen.wait()
                writer.write(data)
                await writer.drain()
        finally:
            with contextlib.suppress(Exception):
                writer.close()
            self._writers.discard(writer)

    def cut(self) -> None:
        """The server went away: drop every connection and refuse new ones."""
        self.down = True
        for writer in list(self._writers):
            writer.close()

    def freeze(self) -> None:
        """The server hangs: connections stay open, nothing comes back."""
        self.frozen.clear()

    def restore(self) -> None:
        self.down = False
        self.frozen.set()

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
