"""API key primitives: make a secret, recognise one, and hash it for storage and lookup.

A secret is `agk_` plus 256 random bits (43 URL-safe characters). The database keeps only an
HMAC-SHA256 of it under a key derived from SECRET_KEY: a random 256-bit secret cannot be guessed,
so it needs no slow hash (one HMAC per request, not an argon2 verify), and the key means a
database dump alone does not even let one check a candidate secret offline.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from functools import cache

PREFIX = "agk_"
SECRET_BYTES = 32  # 256 bits, above the 160 the issue asks for
SHOWN_CHARACTERS = 12  # `prefix`: `agk_` and 8 random characters, to tell keys apart
_SHAPE = re.compile(rf"{PREFIX}[A-Za-z0-9_-]{{43}}")
MAX_NAME_LENGTH = 100
MAX_LIFETIME_DAYS = 3650


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(SECRET_BYTES)


def is_api_key(token: str) -> bool:
    """Whether a bearer token claims to be an API key (a JWT never starts with `agk_`)."""
    return token.startswith(PREFIX)


def well_formed(secret: str) -> bool:
    """Whether `secret` has the shape of one of ours; anything else is refused unhashed."""
    return _SHAPE.fullmatch(secret) is not None


def shown_prefix(secret: str) -> str:
    return secret[:SHOWN_CHARACTERS]


@cache
def hashing_key(secret_key: str) -> bytes:
    """The HMAC key of API key hashes, derived from SECRET_KEY for this one purpose."""
    return hashlib.sha256(b"api-key-hash\x00" + secret_key.encode()).digest()


def secret_hash(key: bytes, secret: str) -> str:
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()
