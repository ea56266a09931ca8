"""`/openapi.json`, `/docs` and `/redoc`: the REST routes documented from their declarations."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from server.responses import JSONResponse
from server.rest.docs_page import CSP, page
from server.rest.openapi import openapi_document
from server.rest.routing import Operation

API_VERSION = "1.0.0"


def docs_routes(operations: Iterable[Operation]) -> list[BaseRoute]:
    """Routes serving a document built once, when the app is made."""
    document = openapi_document(operations, version=API_VERSION)
    pages = {"/docs": page(expanded=False), "/redoc": page(expanded=True)}

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(document)

    async def docs(request: Request) -> Response:
        return HTMLResponse(pages[request.url.path], headers={"Content-Security-Policy": CSP})

    return [
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        Route("/redoc", docs, methods=["GET"]),
    ]
