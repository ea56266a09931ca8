"""The TOTP second factor's pure parts (RFC 6238: SHA-1, 6 digits, 30-second steps, pyotp's
algorithm): secrets, their `otpauth://` URI, which time step a code belongs to, recovery codes.

A code is matched to its step rather than just accepted, so the caller can store the step it
used and refuse that step (and every earlier one) afterwards: a code works at most once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

import pyotp

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1  # a code of the step before or after the server's is accepted (clock drift)
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no l, o, 0, 1: read aloud, typed by hand
_RECOVERY_GROUP = 5
_TOTP_CODE = re.compile(rf"^[0-9]{{{DIGITS}}}$")
TICKET_LIFETIME = timedelta(minutes=5)  # the MFA_REQUIRED ticket (contract section 6)
MAX_CODE_LENGTH = 64  # longer input is neither kind of code, and is not hashed


def new_secret() -> str:
    """160 random bits in base32, as authenticator apps take them (RFC 4226 recommends 160)."""
    return pyotp.random_base32(length=32)


def otpauth_uri(secret: str, *, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def step_of(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP_SECONDS


def normalise_code(code: str) -> str:
    """What the person typed without spaces and dashes, lower case: `123 456` is `123456`."""
    return re.sub(r"[\s-]", "", code).lower()


def is_totp_code(code: str) -> bool:
    """A normalised code of six digits is a TOTP code; anything else may be a recovery code."""
    return bool(_TOTP_CODE.match(code))


def matching_step(secret: str, code: str, at: datetime) -> int | None:
    """The time step within ±DRIFT_STEPS of `at` whose code is `code` (normalised), newest
    first; None when none is. Every candidate is compared in constant time."""
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    now = step_of(at)
    found: int | None = None
    for step in range(now + DRIFT_STEPS, now - DRIFT_STEPS - 1, -1):
        if hmac.compare_digest(totp.generate_otp(step), code) and found is None:
            found = step
    return found


def code_at(secret: str, at: datetime) -> str:
    """The code an authenticator shows at `at` (tests and the CLI play the authenticator)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step_of(at))


def new_recovery_codes() -> list[str]:
    """Ten single-use codes of 50 random bits each, as `abcde-fghij`."""
    return [_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]


def _recovery_code() -> str:
    chars = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(2 * _RECOVERY_GROUP))
    return f"{chars[:_RECOVERY_GROUP]}-{chars[_RECOVERY_GROUP:]}"


def recovery_code_hash(key: bytes, code: str) -> str:
    """A recovery code as stored: HMAC-SHA256 under a key derived from SECRET_KEY, so a
    database dump alone cannot be searched for the 50-bit codes offline."""
    return hmac.new(key, normalise_code(code).encode(), hashlib.sha256).hexdigest()
