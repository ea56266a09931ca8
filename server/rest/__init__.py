"""The REST compatibility layer: the legacy Flask routes as thin skins over the resolvers."""

from __future__ import annotations

from starlette.routing import BaseRoute

from server.rest import auth, users
from server.rest.docs import docs_routes
from server.rest.routing import Operation, routes_of

OPERATIONS: tuple[Operation, ...] = auth.OPERATIONS + users.OPERATIONS


def rest_routes() -> list[BaseRoute]:
    """The legacy routes, then their OpenAPI document and the offline docs pages."""
    return [*routes_of(OPERATIONS), *docs_routes(OPERATIONS)]
