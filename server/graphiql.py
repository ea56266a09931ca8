"""GraphiQL served from this server: vendored assets, our page, and a strict CSP for it."""

from __future__ import annotations

from pathlib import Path

from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

ASSETS = Path(__file__).resolve().parent / "static" / "graphiql"
PREFIX = "/graphql/static"

# Everything comes from this origin; React sets inline styles, and fonts are data: URIs.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "font-src 'self' data:; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>GraphiQL</title>
  <link rel="stylesheet" href="{PREFIX}/graphiql.min.css">
  <style>body {{ margin: 0; height: 100vh; }} #graphiql {{ height: 100vh; }}</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="{PREFIX}/react.production.min.js"></script>
  <script src="{PREFIX}/react-dom.production.min.js"></script>
  <script src="{PREFIX}/graphiql.min.js"></script>
  <script src="{PREFIX}/start.js"></script>
</body>
</html>
"""


def graphiql_page() -> HTMLResponse:
    return HTMLResponse(PAGE, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store"})


def graphiql_assets() -> Mount:
    return Mount(PREFIX, app=StaticFiles(directory=ASSETS), name="graphiql-assets")
