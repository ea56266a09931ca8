"""The REST compatibility layer: the legacy Flask routes as thin skins over the resolvers.

`OPERATIONS` is every REST route of the contract; those of `service` the app routes itself.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from server.rest import admin, auth, service, users
from server.rest.docs import docs_routes
from server.rest.routing import Operation, routes_of

OPERATIONS: tuple[Operation, ...] = (
    auth.OPERATIONS + users.OPERATIONS + admin.OPERATIONS + service.OPERATIONS
)


def rest_routes() -> list[BaseRoute]:
    """The legacy routes, then their OpenAPI document and the offline docs pages."""
    return [*routes_of(OPERATIONS), *docs_routes(OPERATIONS)]
