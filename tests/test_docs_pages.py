"""`/docs` (Swagger UI) and `/redoc` (ReDoc) in a real headless Chromium against a live server:
every operation listed, no request failed, no error logged (CSP included), and Swagger UI's
"Try it out" signed in with a bearer token."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.settings import Settings
from server.rest import OPERATIONS
from server.rest.docs_page import ASSETS
from tests.browser import browser_page
from tests.conftest import PASSWORD, seed_accounts


@pytest.fixture
def server(settings: Settings, request: pytest.FixtureRequest) -> str:
    seed_accounts(settings)  # before the server starts: nothing of it is cached yet
    return str(request.getfixturevalue("live_server"))


def elsewhere(requests: list[dict[str, Any]], server: str) -> list[str]:
    """The requests that went to another origin than this server (`data:` and this page's own
    `blob:`, ReDoc's search worker, never leave the browser)."""
    local = (server + "/", "data:", f"blob:{server}/")
    return [r["url"] for r in requests if not r["url"].startswith(local)]


def operation_ids() -> set[str]:
    return {"_".join([op.method.lower(), *re.findall(r"\w+", op.path)]) for op in OPERATIONS}


# Signs in from the page itself (the token is bound to the browser's address and User-Agent),
# then hands the token to Swagger UI's "Authorize" for the document's bearer scheme.
AUTHORIZE = f"""
fetch("/auth/login", {{method: "POST", headers: {{"Content-Type": "application/json"}},
  body: JSON.stringify({{email: "admin@example.com", password: "{PASSWORD}"}})}})
  .then(r => r.json())
  .then(b => {{
    if (!b.success) throw new Error(JSON.stringify(b));
    window.ui.preauthorizeApiKey("bearer", b.data.access_token);
    return true;
  }})
"""
ME = 'document.querySelector(\'.opblock-get [data-path="/auth/me"]\').closest(".opblock")'


async def test_swagger_ui_lists_every_operation_and_tries_one_with_a_bearer_token(
    server: str,
) -> None:
    async with browser_page(f"{server}/docs") as page:
        await page.wait_for(f"document.querySelectorAll('.opblock').length === {len(OPERATIONS)}")
        shown = await page.evaluate(
            "[...document.querySelectorAll('.opblock-summary-path')].map(e => e.dataset.path)"
        )
        assert set(shown) == {op.path for op in OPERATIONS}
        assert await page.evaluate(AUTHORIZE)
        await page.evaluate(f"{ME}.querySelector('.opblock-summary-control').click() || true")
        await page.wait_for(f"!!{ME}.querySelector('.try-out__btn')")
        await page.evaluate(f"{ME}.querySelector('.try-out__btn').click() || true")
        await page.wait_for(f"!!{ME}.querySelector('.execute')")
        await page.evaluate(f"{ME}.querySelector('.execute').click() || true")
        await page.wait_for(
            f"!!{ME}.querySelector('.live-responses-table tr.response .response-col_status')"
        )
        status = await page.evaluate(
            f"{ME}.querySelector('.live-responses-table tr.response .response-col_status').textContent.trim()"
        )
        body = await page.evaluate(f"{ME}.querySelector('.live-responses-table pre').textContent")
    assert status.startswith("200"), status
    assert "admin@example.com" in body
    me = next(r for r in page.sent if r["url"].endswith("/auth/me"))
    assert me["headers"]["Authorization"].startswith("Bearer eyJ")
    assert page.failed == []
    assert page.errors == []
    assert elsewhere(page.sent, server) == []


async def test_redoc_lists_every_operation(server: str) -> None:
    wanted = operation_ids()
    async with browser_page(f"{server}/redoc") as page:
        check = (  # the operation sections of the page (ReDoc's `tag/<tag>/operation/<id>`)
            "[...document.querySelectorAll('[data-section-id*=\"operation/\"]')]"
            ".map(e => e.dataset.sectionId.split('/').pop())"
        )
        await page.wait_for(f"{check}.length > 0")
        await page.wait_for(f"(ids => {sorted(wanted)!r}.every(id => ids.includes(id)))({check})")
        await page.evaluate("new Promise(done => setTimeout(() => done(true), 500))")
    assert page.failed == []
    assert page.errors == []
    assert elsewhere(page.sent, server) == []


async def test_the_pages_allow_only_the_vendored_scripts(server: str) -> None:
    async with httpx.AsyncClient(base_url=server) as http:
        for path, scripts in (
            ("/docs", ["swagger-ui-bundle.js", "swagger-init.js"]),
            ("/redoc", ["redoc.standalone.js"]),
        ):
            page = await http.get(path)
            policy = page.headers["Content-Security-Policy"]
            script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
            assert "'self'" not in script_src and "unsafe" not in script_src
            assert "connect-src 'self'" in policy and "default-src 'none'" in policy
            assert "https://" not in page.text and "http://" not in page.text
            for name in scripts:
                asset = await http.get(f"/docs/static/{name}")
                assert asset.status_code == 200
                digest = hashlib.sha256(asset.content).digest()
                pinned = "sha256-" + __import__("base64").b64encode(digest).decode()
                assert f"'{pinned}'" in script_src
                assert f'integrity="{pinned}"' in page.text


def test_the_vendored_files_are_the_ones_the_readme_records() -> None:
    readme = (ASSETS / "README.md").read_text()
    recorded = dict(re.findall(r"`([\w.-]+)`\s*\|\s*`([0-9a-f]{64})`", readme))
    files = {p.name for p in Path(ASSETS).iterdir() if p.suffix in (".js", ".css")}
    assert set(recorded) == files
    for name, digest in recorded.items():
        assert hashlib.sha256((ASSETS / name).read_bytes()).hexdigest() == digest, name
