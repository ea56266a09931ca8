"""Sessions: `mySessions`, `revokeSession`; admins: `userSessions`, `revokeUserSessions`."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime

import strawberry

from resolvers import sessions
from resolvers.user_inputs import parse_user_id
from schema.context import Info
from schema.permissions import ADMIN, SIGNED_IN, policy


@strawberry.type(name="Session", description="One login.")
class SessionType:
    id: strawberry.ID
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    ip_address: str | None
    user_agent: str | None
    current: bool

    @classmethod
    def of(cls, view: sessions.SessionView) -> SessionType:
        values = {f.name: getattr(view, f.name) for f in fields(view)}
        return cls(**{**values, "id": strawberry.ID(view.id)})


@strawberry.type
class SessionsQuery:
    @strawberry.field(extensions=policy(SIGNED_IN), description="My live sessions, newest first.")
    async def my_sessions(self, info: Info) -> list[SessionType]:
        ctx = info.context
        return [SessionType.of(v) for v in await sessions.my_sessions(ctx.services, ctx.caller)]

    @strawberry.field(extensions=policy(ADMIN), description="A user's live sessions, newest first.")
    async def user_sessions(self, info: Info, user_id: strawberry.ID) -> list[SessionType]:
        ctx = info.context
        views = await sessions.user_sessions(
            ctx.services, ctx.caller, user_id=parse_user_id(user_id)
        )
        return [SessionType.of(view) for view in views]


@strawberry.type
class SessionsMutation:
    @strawberry.mutation(extensions=policy(SIGNED_IN), description="End one of my sessions.")
    async def revoke_session(self, info: Info, id: strawberry.ID) -> bool:
        ctx = info.context
        return await sessions.revoke_session(ctx.services, ctx.caller, session_id=str(id))

    @strawberry.mutation(extensions=policy(ADMIN), description="End every session of a user.")
    async def revoke_user_sessions(self, info: Info, user_id: strawberry.ID) -> bool:
        ctx = info.context
        return await sessions.revoke_user_sessions(
            ctx.services, ctx.caller, user_id=parse_user_id(user_id)
        )
