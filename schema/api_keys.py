"""API keys: `myApiKeys`, `createApiKey`, `revokeApiKey`."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime

import strawberry

from persistence.api_keys import ApiKeyView
from resolvers import api_keys
from schema.context import Info
from schema.permissions import SIGNED_IN, policy


@strawberry.type(name="ApiKey", description="A personal access token; never its secret.")
class ApiKeyType:
    id: strawberry.ID
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None

    @classmethod
    def of(cls, view: ApiKeyView) -> ApiKeyType:
        values = {f.name: getattr(view, f.name) for f in fields(view)}
        return cls(**{**values, "id": strawberry.ID(str(view.id))})


@strawberry.type(name="NewApiKey", description="A key just made, with its secret (shown once).")
class NewApiKeyType:
    api_key: ApiKeyType
    secret: str


@strawberry.type
class ApiKeysQuery:
    @strawberry.field(extensions=policy(SIGNED_IN), description="My API keys, newest first.")
    async def my_api_keys(self, info: Info) -> list[ApiKeyType]:
        ctx = info.context
        return [ApiKeyType.of(v) for v in await api_keys.my_api_keys(ctx.services, ctx.caller)]


@strawberry.type
class ApiKeysMutation:
    @strawberry.mutation(
        extensions=policy(SIGNED_IN),
        description="Make an API key (Authorization: Bearer <secret>); the secret is shown once.",
    )
    async def create_api_key(
        self, info: Info, name: str, expires_in_days: int | None = strawberry.UNSET
    ) -> NewApiKeyType:
        ctx = info.context
        days = None if expires_in_days is strawberry.UNSET else expires_in_days  # null: never
        made = await api_keys.create_api_key(
            ctx.services, ctx.caller, name=name, expires_in_days=days
        )
        return NewApiKeyType(api_key=ApiKeyType.of(made.api_key), secret=made.secret)

    @strawberry.mutation(
        extensions=policy(SIGNED_IN), description="Revoke one of my API keys (admins: any)."
    )
    async def revoke_api_key(self, info: Info, id: strawberry.ID) -> bool:
        ctx = info.context
        return await api_keys.revoke_api_key(ctx.services, ctx.caller, key_id=str(id))
