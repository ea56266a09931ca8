"""The API docs pages: Swagger UI (`/docs`) and ReDoc (`/redoc`), vendored in
`server/static/apidocs` (see its README), reading `/openapi.json`; nothing from another origin.

Each page's scripts are pinned by hash: the CSP allows exactly those files (`integrity`
carries the same sha256, so the browser checks the bytes it runs).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

from starlette.responses import HTMLResponse

ASSETS = Path(__file__).resolve().parent.parent / "static" / "apidocs"
PREFIX = "/docs/static"


def sri(name: str) -> str:
    """`sha256-<base64>` of a vendored file: its `integrity` value and its CSP source."""
    digest = hashlib.sha256((ASSETS / name).read_bytes()).digest()
    return "sha256-" + base64.b64encode(digest).decode()


def _policy(scripts: list[str]) -> str:
    hashes = " ".join(f"'{sri(name)}'" for name in scripts)
    # Swagger UI and ReDoc (styled-components) set styles inline; scripts never run inline.
    return (
        f"default-src 'none'; script-src {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def _script(name: str, *, module: bool = False) -> str:
    kind = ' type="module"' if module else ""
    return f'<script{kind} src="{PREFIX}/{name}" integrity="{sri(name)}"></script>'


@dataclass(frozen=True, slots=True)
class DocsPage:
    html: str
    csp: str

    def response(self) -> HTMLResponse:
        return HTMLResponse(
            self.html, headers={"Content-Security-Policy": self.csp, "Cache-Control": "no-store"}
        )


def _page(title: str, head: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="icon" href="{PREFIX}/favicon-32x32.png">{head}</head>'
        f"<body>{body}</body></html>"
    )


def swagger_ui() -> DocsPage:
    """`/docs`: the operations to read and try (Authorize with an access token first)."""
    scripts = ["swagger-ui-bundle.js", "swagger-init.js"]
    html = _page(
        "API reference: Swagger UI",
        f'<link rel="stylesheet" href="{PREFIX}/swagger-ui.css">',
        '<div id="swagger-ui"></div>' + "".join(_script(name) for name in scripts),
    )
    return DocsPage(html, _policy(scripts))


def redoc() -> DocsPage:
    """`/redoc`: the same document as one reading page."""
    html = _page(
        "API reference: ReDoc",
        "",
        '<redoc spec-url="/openapi.json"></redoc>' + _script("redoc.standalone.js"),
    )
    return DocsPage(html, _policy(["redoc.standalone.js"]))
