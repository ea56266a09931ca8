"""The app's shutdown waits for its background work a bounded time, whatever that work does."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from server import background
from server.app import create_app


async def test_a_background_task_that_will_not_stop_does_not_hold_the_shutdown(
    settings: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    running: list[asyncio.Task[Any]] = []
    released = asyncio.Event()

    async def stubborn(_services: Any) -> None:  # a sweep stuck where cancelling cannot reach
        running.append(asyncio.current_task())  # type: ignore[arg-type]
        while not released.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue

    monkeypatch.setattr(background, "_sweep_forever", stubborn)
    monkeypatch.setattr(background, "STOP_WITHIN", 0.3)
    app = create_app(settings)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="app.background"):
        async with app.router.lifespan_context(app):
            await asyncio.sleep(0.05)  # the sweep is running
    assert time.monotonic() - started < 5
    assert "background task export-sweep did not stop within 0.3 s" in caplog.text
    released.set()  # the test's own loop must not wait for it in turn
    running[0].cancel()
    await asyncio.wait(running)
