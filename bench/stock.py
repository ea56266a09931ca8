"""The reference: the same users query on stock Strawberry + SQLAlchemy, as its docs show it.

What a team would build from the Strawberry documentation without tuning: `strawberry.asgi.GraphQL`
with a `get_context` override (the Starlette integration has no context getter), a context
holding the signed-in user, `permission_classes` on every field, async resolvers opening an
`AsyncSession` each, `createdBy` loaded per row with `session.get` (no DataLoader), no parser
or validation cache, the standard JSON encoder and uvicorn's defaults (access log included).
It reads the product's tables through the product's SQLAlchemy models and checks the product's
access tokens with PyJWT (signature, audience, expiry), then loads the user by id.

Bench-only: nothing in the product imports this module.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
import strawberry
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.permission import BasePermission
from strawberry.types import Info

from persistence.db import async_url
from persistence.models import User as UserModel

engine = create_async_engine(async_url(os.environ.get("DATABASE_URL", "sqlite:///var/bench.db")))
Session = async_sessionmaker(engine, expire_on_commit=False)
JWT_SECRET = os.environ.get("JWT_SECRET", "")
JWT_AUDIENCE = "accounts-graphql:access"


@dataclass
class Context:
    request: Request | WebSocket
    user: UserModel | None


class IsAuthenticated(BasePermission):
    message = "User is not authenticated"

    def has_permission(self, source: Any, info: Info[Context, None], **kwargs: Any) -> bool:
        return info.context.user is not None


class IsAdmin(BasePermission):
    message = "Admins only"

    def has_permission(self, source: Any, info: Info[Context, None], **kwargs: Any) -> bool:
        return info.context.user is not None and info.context.user.role == "admin"


@strawberry.type
class User:
    id: strawberry.ID = strawberry.field(permission_classes=[IsAuthenticated])
    name: str = strawberry.field(permission_classes=[IsAuthenticated])
    email: str = strawberry.field(permission_classes=[IsAuthenticated])
    role: str = strawberry.field(permission_classes=[IsAuthenticated])
    is_active: bool = strawberry.field(permission_classes=[IsAuthenticated])
    created_at: datetime = strawberry.field(permission_classes=[IsAuthenticated])
    created_by_id: strawberry.Private[int | None]

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def created_by(self) -> User | None:
        if self.created_by_id is None:
            return None
        async with Session() as session:
            row = await session.get(UserModel, self.created_by_id)
        return User.from_model(row) if row is not None else None

    @classmethod
    def from_model(cls, row: UserModel) -> User:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            email=row.email,
            role=row.role.upper(),
            is_active=row.is_active,
            created_at=row.created_at,
            created_by_id=row.created_by,
        )


@strawberry.type
class PageInfo:
    total: int = strawberry.field(permission_classes=[IsAuthenticated])


@strawberry.type
class UserPage:
    items: list[User] = strawberry.field(permission_classes=[IsAuthenticated])
    page_info: PageInfo = strawberry.field(permission_classes=[IsAuthenticated])


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsAdmin])
    async def users(self, page: int = 1, per_page: int = 20) -> UserPage:
        live = UserModel.deleted_at.is_(None)
        async with Session() as session:
            total = await session.scalar(select(func.count(UserModel.id)).where(live))
            rows = await session.scalars(
                select(UserModel)
                .where(live)
                .order_by(UserModel.created_at.desc(), UserModel.id.desc())
                .offset((page - 1) * per_page)
                .limit(per_page)
            )
            items = [User.from_model(row) for row in rows]
        return UserPage(items=items, page_info=PageInfo(total=int(total or 0)))

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def me(self, info: Info[Context, None]) -> User:
        assert info.context.user is not None
        return User.from_model(info.context.user)


class StockGraphQL(GraphQL[Context, None]):
    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context(request=request, user=await _user_of(request))


async def _user_of(request: Request | WebSocket) -> UserModel | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    try:
        claims = jwt.decode(
            header.removeprefix("Bearer "),
            JWT_SECRET,
            algorithms=["HS256"],
            audience=JWT_AUDIENCE,
        )
    except jwt.PyJWTError:
        return None
    async with Session() as session:
        return await session.get(UserModel, int(claims["sub"]))


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


schema = strawberry.Schema(query=Query)
app = Starlette(
    routes=[
        Route("/graphql", StockGraphQL(schema), methods=["GET", "POST"]),
        Route("/health", health, methods=["GET"]),
    ]
)
