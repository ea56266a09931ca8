"""Secrets the server must read back (TOTP secrets), sealed with keys derived from SECRET_KEY.

HKDF-SHA256 derives one key per purpose from SECRET_KEY; AES-256-GCM seals each value with a
fresh 96-bit nonce and binds it to its owner (the associated data), so a database dump alone
does not yield the secret, and a sealed value copied to another account does not open there.
Changing SECRET_KEY makes sealed values unreadable: the owners enroll again.
"""

from __future__ import annotations

import base64
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE_BYTES = 12
_VERSION = "v1"


@lru_cache(maxsize=16)
def derive_key(secret_key: str, purpose: str) -> bytes:
    """A 256-bit key for one purpose (`totp-secret`, `recovery-code`), from SECRET_KEY."""
    hkdf = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"accounts:{purpose}".encode()
    )
    return hkdf.derive(secret_key.encode())


def seal(key: bytes, plaintext: str, *, owner: str) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), owner.encode())
    return f"{_VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def open_sealed(key: bytes, sealed: str, *, owner: str) -> str | None:
    """The plaintext, or None when the value was sealed under another key or owner, or altered."""
    version, _, body = sealed.partition(".")
    if version != _VERSION:
        return None
    try:
        raw = base64.urlsafe_b64decode(body)
        plain = AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], owner.encode())
    except (InvalidTag, ValueError):
        return None
    return plain.decode()
