"""`/auth/*`: the legacy token routes over the same resolvers as the GraphQL mutations."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from resolvers import auth, mfa, users
from server.rest.presenters import tokens_json
from server.rest.replies import ok, user_reply
from server.rest.routing import Operation, caller_of, services_of
from server.rest.specs import LoginBody, MfaVerifyBody, NewAccountBody, RefreshBody


async def register(request: Request, body: NewAccountBody) -> Response:
    user = await auth.register(services_of(request), caller_of(request), **body.account())
    return user_reply(request, user, status=201)


async def login(request: Request, body: LoginBody) -> Response:
    pair = await auth.login(
        services_of(request), caller_of(request), email=body.email, password=body.password
    )
    return ok(tokens_json(pair))


async def verify_mfa(request: Request, body: MfaVerifyBody) -> Response:
    pair = await mfa.verify_mfa(
        services_of(request), caller_of(request), mfa_token=body.mfa_token, code=body.code
    )
    return ok(tokens_json(pair))


async def refresh(request: Request, body: RefreshBody) -> Response:
    pair = await auth.refresh(
        services_of(request), caller_of(request), refresh_token=body.refresh_token
    )
    return ok(tokens_json(pair))


async def logout(request: Request) -> Response:
    await auth.logout(services_of(request), caller_of(request))
    return ok()


async def logout_all(request: Request) -> Response:
    await auth.logout_all(services_of(request), caller_of(request))
    return ok()


async def me(request: Request) -> Response:
    return user_reply(request, await users.get_me(services_of(request), caller_of(request)))


_ME = ("If-None-Match",)
OPERATIONS = (
    Operation(
        "POST", "/auth/register", register, "Register (idempotent for the same password)",
        status=201, body=NewAccountBody, returns="User", refusals=(403, 409, 429),
    ),
    Operation(
        "POST", "/auth/login", login, "Sign in",
        body=LoginBody, returns="TokenPair", refusals=(401, 429),
        description="With a second factor on, 401 MFA_REQUIRED and a ticket in "
        "`error.details.mfa_token`: finish with POST /auth/mfa/verify.",
    ),
    Operation(
        "POST", "/auth/mfa/verify", verify_mfa, "Finish a sign-in with a second-factor code",
        body=MfaVerifyBody, returns="TokenPair", refusals=(401, 429),
        description="The ticket is single use and lives 5 minutes; a TOTP code is accepted "
        "once per 30-second step, a recovery code once. Wrong codes: 401 INVALID_MFA_CODE, "
        "then 429 RATE_LIMITED.",
    ),
    Operation(
        "POST", "/auth/refresh", refresh, "Rotate this session's tokens",
        body=RefreshBody, returns="TokenPair", refusals=(401, 429),
    ),
    Operation(
        "POST", "/auth/logout", logout, "Revoke this session", "signed-in",
        refusals=(403,), description="An API key has no session: 403 FORBIDDEN.",
    ),
    Operation(
        "POST", "/auth/logout-all", logout_all, "Revoke every session", "signed-in",
        refusals=(403,), description="Not with an API key: 403 FORBIDDEN.",
    ),
    Operation("GET", "/auth/me", me, "The signed-in user", "signed-in", returns="User", headers=_ME),
)  # fmt: skip
