"""Headless Chromium (Debian's `chromium`) driven over the Chrome DevTools Protocol: open a page,
wait until it is ready, and report every request that failed and every error it logged."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect


def chromium_or_skip() -> str:
    """The browser's path; missing, the test fails under CI=true and is skipped elsewhere."""
    found = shutil.which("chromium")
    if found is None:
        message = "chromium is not installed (apt-get install -y chromium; .ci/run installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


@dataclass
class Page:
    """One tab, attached through a flat CDP session."""

    ws: ClientConnection
    session: str
    failed: list[str] = field(default_factory=list)  # requests that failed or answered >= 400
    errors: list[str] = field(default_factory=list)  # exceptions, console errors, CSP reports
    sent: list[dict[str, Any]] = field(default_factory=list)  # requests, with their headers
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _answers: dict[int, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._answers[ident] = answer
        message = {"id": ident, "sessionId": self.session, "method": method, "params": params}
        await self.ws.send(json.dumps(message))
        return await asyncio.wait_for(answer, 30)

    async def evaluate(self, expression: str) -> Any:
        result = await self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression[:60]}...: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while not await self.evaluate(expression):
            assert time.monotonic() < deadline, f"never true: {expression}"
            await asyncio.sleep(0.1)

    def note(self, message: dict[str, Any]) -> None:
        ident = message.get("id")
        if ident in self._answers:
            self._answers.pop(ident).set_result(message.get("result", message))
            return
        method, params = message.get("method"), message.get("params", {})
        if method == "Network.loadingFailed":
            url = next((r["url"] for r in self.sent if r["id"] == params["requestId"]), "?")
            self.failed.append(f"{params.get('errorText')} {params.get('blockedReason')} {url}")
        elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
            self.failed.append(f"{params['response']['status']} {params['response']['url']}")
        elif method == "Network.requestWillBeSent":
            self.sent.append({**params["request"], "id": params["requestId"]})
        elif method == "Runtime.exceptionThrown":
            self.errors.append(json.dumps(params["exceptionDetails"])[:500])
        elif method == "Runtime.consoleAPICalled" and params["type"] == "error":
            self.errors.append(json.dumps(params["args"])[:500])
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.errors.append(params["entry"]["text"])


@contextlib.asynccontextmanager
async def browser_page(url: str) -> AsyncIterator[Page]:
    """`url` opened in a fresh headless Chromium, with requests, errors and the console watched."""
    binary = chromium_or_skip()
    # Chromium's helper processes may still write to the profile as the browser ends.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        process = await asyncio.create_subprocess_exec(
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--window-size=1280,4000",  # tall: ReDoc renders only the menu items in view
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "about:blank",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            endpoint = await _devtools_endpoint(Path(profile) / "DevToolsActivePort")
            async with connect(endpoint, max_size=None) as ws:
                yield await _open(ws, url)
        finally:
            process.terminate()
            await asyncio.wait_for(process.wait(), 10)


async def _devtools_endpoint(active_port: Path) -> str:
    deadline = time.monotonic() + 30
    while not active_port.exists() or len(active_port.read_text().splitlines()) < 2:
        assert time.monotonic() < deadline, "chromium did not open its DevTools port"
        await asyncio.sleep(0.1)
    port, path = active_port.read_text().splitlines()[:2]
    return f"ws://127.0.0.1:{port}{path}"


async def _open(ws: ClientConnection, url: str) -> Page:
    await ws.send(
        json.dumps({"id": 1, "method": "Target.createTarget", "params": {"url": "about:blank"}})
    )
    target = await _answer(ws, 1)
    await ws.send(
        json.dumps(
            {
                "id": 2,
                "method": "Target.attachToTarget",
                "params": {"targetId": target["targetId"], "flatten": True},
            }
        )
    )
    page = Page(ws, (await _answer(ws, 2))["sessionId"])
    asyncio.get_running_loop().create_task(_listen(ws, page))
    for domain in ("Network", "Runtime", "Log", "Page"):
        await page.call(f"{domain}.enable")
    await page.call("Page.navigate", url=url)
    return page


async def _answer(ws: ClientConnection, ident: int) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if message.get("id") == ident:
            result: dict[str, Any] = message["result"]
            return result


async def _listen(ws: ClientConnection, page: Page) -> None:
    with contextlib.suppress(Exception):
        async for raw in ws:
            page.note(json.loads(raw))
