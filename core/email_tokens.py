"""Secrets sent to a person by e-mail: random, stored only as a hash, single use, short-lived.

The raw token exists in memory while its mail is built and in the mail itself; the database
keeps its SHA-256 (a 256-bit random value needs no slow hash: it cannot be guessed).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Literal

Purpose = Literal["reset", "verify"]

TOKEN_BYTES = 32  # 256 bits, above the 128 the contract asks for
LIFETIME: dict[Purpose, timedelta] = {
    "reset": timedelta(minutes=30),
    "verify": timedelta(hours=24),
}
MAX_TOKEN_LENGTH = 128  # anything longer is not one of ours, and is not hashed


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link(template: str, token: str) -> str:
    """The URL a mail carries: `template` with its `{token}` filled (appended when absent)."""
    if "{token}" in template:
        return template.replace("{token}", token)
    separator = "&" if "?" in template else "?"
    return f"{template}{separator}token={token}"
