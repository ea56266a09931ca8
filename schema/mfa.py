"""The TOTP second factor: enrollment, recovery codes, finishing a login, an admin's reset."""

from __future__ import annotations

import strawberry

from resolvers import mfa
from schema.auth import TokenPair
from schema.context import Info
from schema.permissions import ADMIN, PUBLIC, SIGNED_IN, policy


@strawberry.type
class TotpEnrollment:
    secret: str
    otpauth_uri: str


@strawberry.type
class RecoveryCodes:
    codes: list[str]


@strawberry.type
class MfaMutation:
    @strawberry.mutation(
        extensions=policy(SIGNED_IN),
        description="A new TOTP secret and its otpauth:// URI; pending until confirmTotp.",
    )
    async def enroll_totp(self, info: Info, password: str) -> TotpEnrollment:
        ctx = info.context
        enrollment = await mfa.enroll_totp(ctx.services, ctx.caller, password=password)
        return TotpEnrollment(secret=enrollment.secret, otpauth_uri=enrollment.otpauth_uri)

    @strawberry.mutation(
        extensions=policy(SIGNED_IN),
        description="Turn the second factor on; answers 10 single-use recovery codes, once.",
    )
    async def confirm_totp(self, info: Info, code: str) -> RecoveryCodes:
        ctx = info.context
        return RecoveryCodes(codes=await mfa.confirm_totp(ctx.services, ctx.caller, code=code))

    @strawberry.mutation(
        extensions=policy(SIGNED_IN),
        description="Turn the second factor off (code: TOTP or recovery); ends my other sessions.",
    )
    async def disable_totp(self, info: Info, password: str, code: str) -> bool:
        ctx = info.context
        return await mfa.disable_totp(ctx.services, ctx.caller, password=password, code=code)

    @strawberry.mutation(
        extensions=policy(SIGNED_IN),
        description="Replace my recovery codes; ends my other sessions.",
    )
    async def regenerate_recovery_codes(
        self, info: Info, password: str, code: str
    ) -> RecoveryCodes:
        ctx = info.context
        codes = await mfa.regenerate_recovery_codes(
            ctx.services, ctx.caller, password=password, code=code
        )
        return RecoveryCodes(codes=codes)

    @strawberry.mutation(
        extensions=policy(PUBLIC),
        description="Finish a login that answered MFA_REQUIRED (a TOTP or recovery code).",
    )
    async def verify_mfa(self, info: Info, mfa_token: str, code: str) -> TokenPair:
        ctx = info.context
        pair = await mfa.verify_mfa(ctx.services, ctx.caller, mfa_token=mfa_token, code=code)
        return TokenPair.from_pair(pair)

    @strawberry.mutation(
        extensions=policy(ADMIN),
        description="Turn a user's second factor off; ends all their sessions.",
    )
    async def reset_mfa(self, info: Info, user_id: strawberry.ID) -> bool:
        ctx = info.context
        return await mfa.reset_mfa(ctx.services, ctx.caller, user_id=user_id)
