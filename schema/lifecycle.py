"""The account lifecycle: passwords (change, reset), e-mail addresses (verify, change), and
restoring a deleted account."""

from __future__ import annotations

import strawberry

from resolvers import email_verification, passwords, restore
from schema.context import Info
from schema.permissions import ADMIN, PUBLIC, SIGNED_IN, policy
from schema.users_types import UserType


@strawberry.type
class AccountMutation:
    @strawberry.mutation(
        extensions=policy(SIGNED_IN),
        description="Change my password; ends every other session of mine.",
    )
    async def change_password(self, info: Info, current_password: str, new_password: str) -> bool:
        ctx = info.context
        return await passwords.change_password(
            ctx.services, ctx.caller, current_password=current_password, new_password=new_password
        )

    @strawberry.mutation(
        extensions=policy(PUBLIC),
        description="Mail a reset link; true whether or not the account exists.",
    )
    async def request_password_reset(self, info: Info, email: str) -> bool:
        ctx = info.context
        return await passwords.request_password_reset(ctx.services, ctx.caller, email=email)

    @strawberry.mutation(
        extensions=policy(PUBLIC),
        description="Set a new password with a mailed token; ends every session.",
    )
    async def reset_password(self, info: Info, token: str, new_password: str) -> bool:
        ctx = info.context
        return await passwords.reset_password(
            ctx.services, ctx.caller, token=token, new_password=new_password
        )

    @strawberry.mutation(
        extensions=policy(SIGNED_IN), description="Mail me a new verification link."
    )
    async def request_email_verification(self, info: Info) -> bool:
        ctx = info.context
        return await email_verification.request_email_verification(ctx.services, ctx.caller)

    @strawberry.mutation(extensions=policy(PUBLIC), description="Confirm an e-mail address.")
    async def verify_email(self, info: Info, token: str) -> UserType:
        ctx = info.context
        user = await email_verification.verify_email(ctx.services, ctx.caller, token=token)
        return UserType.from_view(user)

    @strawberry.mutation(
        extensions=policy(SIGNED_IN),
        description="Mail a link to a new address; it becomes mine once followed.",
    )
    async def change_email(self, info: Info, password: str, new_email: str) -> bool:
        ctx = info.context
        return await email_verification.change_email(
            ctx.services, ctx.caller, password=password, new_email=new_email
        )

    @strawberry.mutation(extensions=policy(ADMIN), description="Undo a soft delete.")
    async def restore_user(self, info: Info, id: strawberry.ID) -> UserType:
        ctx = info.context
        return UserType.from_view(await restore.restore_user(ctx.services, ctx.caller, user_id=id))
