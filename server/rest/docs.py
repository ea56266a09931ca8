"""`/openapi.json`, `/docs` and `/redoc`: the REST routes documented from their declarations."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from server.responses import JSONResponse
from server.rest.docs_page import ASSETS, PREFIX, redoc, swagger_ui
from server.rest.openapi import openapi_document
from server.rest.routing import Operation

API_VERSION = "1.0.0"


def docs_routes(operations: Iterable[Operation]) -> list[BaseRoute]:
    """Routes serving a document and pages built once, when the app is made."""
    document = openapi_document(operations, version=API_VERSION)
    pages = {"/docs": swagger_ui(), "/redoc": redoc()}

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(document)

    async def docs(request: Request) -> Response:
        return pages[request.url.path].response()

    return [
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        Route("/redoc", docs, methods=["GET"]),
        Mount(PREFIX, app=StaticFiles(directory=ASSETS), name="docs-assets"),
    ]
