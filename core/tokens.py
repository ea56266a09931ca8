"""JWT primitives: encode and decode access and refresh tokens with every claim pinned.

Access and refresh tokens differ in `typ` and `aud`, so neither is ever accepted as the other.
The algorithm list on decode is exactly the configured one: `none` and swaps are refused.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import jwt

from core.errors import AppError, ErrorCode
from core.settings import Settings

TokenType = Literal["access", "refresh"]
_REQUIRED = ["iss", "aud", "sub", "jti", "iat", "exp", "typ", "sid", "tv"]


@dataclass(frozen=True, slots=True)
class Claims:
    user_id: int
    session_id: str
    jti: str
    token_version: int
    fingerprint: str
    expires_at: int


def new_id() -> str:
    """An unguessable identifier for sessions and token ids."""
    return secrets.token_urlsafe(24)


def audience(settings: Settings, token_type: TokenType) -> str:
    return f"{settings.jwt_issuer}:{token_type}"


def fingerprint(mode: str, ip: str, user_agent: str) -> str:
    """A digest binding a token to its client, per TOKEN_FINGERPRINT (`ip+ua`, `ua`, `off`)."""
    if mode == "off":
        return ""
    material = user_agent if mode == "ua" else f"{ip}\n{user_agent}"
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def encode(
    settings: Settings,
    token_type: TokenType,
    *,
    user_id: int,
    session_id: str,
    jti: str,
    token_version: int,
    fingerprint: str,
    issued_at: datetime,
    expires_at: datetime,
) -> str:
    payload: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": audience(settings, token_type),
        "sub": str(user_id),
        "jti": jti,
        "iat": int(issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
        "typ": token_type,
        "sid": session_id,
        "tv": token_version,
        "fp": fingerprint,
    }
    return jwt.encode(
        payload, settings.jwt_secret, algorithm=settings.jwt_alg, headers={"typ": "JWT"}
    )


def decode(settings: Settings, token: str, token_type: TokenType, *, now: datetime) -> Claims:
    """Verified claims, or TOKEN_EXPIRED / TOKEN_INVALID."""
    try:
        payload = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[settings.jwt_alg],
            audience=audience(settings, token_type),
            issuer=settings.jwt_issuer,
            options={
                "require": _REQUIRED,
                "enforce_minimum_key_length": True,
                "verify_iat": False,
                "verify_exp": False,
            },
        )
    except jwt.PyJWTError as exc:
        raise AppError(ErrorCode.TOKEN_INVALID) from exc
    if payload.get("typ") != token_type:
        raise AppError(ErrorCode.TOKEN_INVALID)
    try:
        claims = Claims(
            user_id=int(payload["sub"]),
            session_id=str(payload["sid"]),
            jti=str(payload["jti"]),
            token_version=int(payload["tv"]),
            fingerprint=str(payload.get("fp", "")),
            expires_at=int(payload["exp"]),
        )
    except (TypeError, ValueError) as exc:
        raise AppError(ErrorCode.TOKEN_INVALID) from exc
    # Expiry is checked against our clock (a boundary tests can move), after the signature.
    if claims.expires_at <= int(now.timestamp()):
        raise AppError(ErrorCode.TOKEN_EXPIRED)
    return claims
