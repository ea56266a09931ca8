"""Sign-up, sign-in and the token lifecycle; `me`."""

from __future__ import annotations

import strawberry

from resolvers import auth, users
from schema.context import Info
from schema.enums import Role
from schema.permissions import PUBLIC, SIGNED_IN, policy
from schema.users_types import UserType


@strawberry.type
class TokenPair:
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int

    @classmethod
    def from_pair(cls, pair: auth.TokenPair) -> TokenPair:
        return cls(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            token_type=pair.token_type,
            expires_in=pair.expires_in,
        )


@strawberry.input
class RegisterInput:
    name: str
    email: str
    password: str
    role: Role | None = Role.USER


@strawberry.type
class AuthQuery:
    @strawberry.field(extensions=policy(SIGNED_IN), description="The signed-in user.")
    async def me(self, info: Info) -> UserType:
        return UserType.from_view(await users.get_me(info.context.services, info.context.caller))


@strawberry.type
class AuthMutation:
    @strawberry.mutation(
        extensions=policy(PUBLIC),
        description="Sign up; replays the answer for the same email and password.",
    )
    async def register(self, info: Info, input: RegisterInput) -> UserType:
        ctx = info.context
        user = await auth.register(
            ctx.services,
            ctx.caller,
            name=input.name,
            email=input.email,
            password=input.password,
            role=(input.role or Role.USER).value,
        )
        return UserType.from_view(user)

    @strawberry.mutation(extensions=policy(PUBLIC), description="Open a session.")
    async def login(self, info: Info, email: str, password: str) -> TokenPair:
        ctx = info.context
        pair = await auth.login(ctx.services, ctx.caller, email=email, password=password)
        return TokenPair.from_pair(pair)

    @strawberry.mutation(
        extensions=policy(PUBLIC),
        description="Rotate a session's tokens; a reused refresh token ends it.",
    )
    async def refresh(self, info: Info, refresh_token: str) -> TokenPair:
        ctx = info.context
        return TokenPair.from_pair(
            await auth.refresh(ctx.services, ctx.caller, refresh_token=refresh_token)
        )

    @strawberry.mutation(extensions=policy(SIGNED_IN), description="End this session.")
    async def logout(self, info: Info) -> bool:
        return await auth.logout(info.context.services, info.context.caller)

    @strawberry.mutation(extensions=policy(SIGNED_IN), description="End every session of mine.")
    async def logout_all(self, info: Info) -> bool:
        return await auth.logout_all(info.context.services, info.context.caller)
