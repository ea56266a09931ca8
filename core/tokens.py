"""JWT primitives: encode and decode access and refresh tokens with every claim pinned.

Access and refresh tokens differ in `typ` and `aud`, so neither is ever accepted as the other.
The algorithm list on decode is exactly the configured one: `none` and swaps are refused.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

import jwt

from core.errors import AppError, ErrorCode
from core.settings import Settings

TokenType = Literal["access", "refresh"]
_REQUIRED = ["iss", "aud", "sub", "jti", "iat", "exp", "typ", "sid", "tv"]
# Verified tokens remembered per process (a few hundred bytes each).
VERIFIED_CACHE_SIZE = 4096


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
    return _audience(settings.jwt_issuer, token_type)


def _audience(issuer: str, token_type: TokenType) -> str:
    return f"{issuer}:{token_type}"


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
    claims = _verified(
        token, token_type, settings.jwt_secret, settings.jwt_alg, settings.jwt_issuer
    )
    # Expiry is checked against our clock (a boundary tests can move), after the signature.
    if claims.expires_at <= int(now.timestamp()):
        raise AppError(ErrorCode.TOKEN_EXPIRED)
    return claims


@lru_cache(maxsize=VERIFIED_CACHE_SIZE)
def _verified(token: str, token_type: TokenType, secret: str, alg: str, issuer: str) -> Claims:
    """The signature and every claim but expiry, checked once per token and remembered.

    A token's signature and claims never change, so a client sending the same token on every
    request needs the HMAC and PyJWT's checks only once (they were 6 % of a `me` request's CPU).
    Only tokens that pass are kept (a refusal raises, and lru_cache keeps no exceptions), so
    garbage cannot fill the cache; what revokes a token is the session check, which still runs
    on every request. The key holds the secret, algorithm and issuer: new settings, new entries.
    """
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[alg],
            audience=_audience(issuer, token_type),
            issuer=issuer,
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
    return claims
