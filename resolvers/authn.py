"""Authentication of one request: turn a Bearer header into a principal or a coded refusal."""

from __future__ import annotations

from core.errors import AppError, ErrorCode
from resolvers.deps import Caller, Services


async def authenticate(services: Services, caller: Caller, authorization: str) -> None:
    """Set `caller.principal`, or `caller.auth_error` explaining why the token was refused."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        caller.auth_error = AppError(ErrorCode.MISSING_AUTH_HEADER)
        return
    caller.auth_error = AppError(ErrorCode.TOKEN_INVALID)
