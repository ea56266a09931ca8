"""Password hashing: argon2id, verified exactly as typed, rehashed when the parameters change."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP's minimum for argon2id: m=19 MiB, t=2, p=1. Production never goes below it.
OWASP = {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1}
# For tests only (Settings refuses it in production): the same algorithm, cheap parameters.
FAST = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
MAX_PASSWORD_LENGTH = 1024  # bounded, so nobody makes us hash a megabyte


@dataclass(frozen=True, slots=True)
class PasswordHasher:
    _argon: _Argon2
    min_length: int

    @classmethod
    def for_profile(cls, profile: str, min_length: int = 8) -> PasswordHasher:
        p = OWASP if profile == "owasp" else FAST
        argon = _Argon2(
            time_cost=p["time_cost"],
            memory_cost=p["memory_cost"],
            parallelism=p["parallelism"],
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        return cls(argon, min_length)

    @property
    def parameters(self) -> dict[str, int]:
        p = self._argon
        return {
            "time_cost": p.time_cost,
            "memory_cost": p.memory_cost,
            "parallelism": p.parallelism,
        }

    def hash(self, password: str) -> str:
        return self._argon.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """True when `password` (not trimmed, not truncated) matches the stored hash."""
        try:
            return self._argon.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def verify_absent(self, password: str) -> bool:
        """The verification an account that cannot sign in (unknown, deactivated, deleted)
        costs: one verify against a stand-in hash of the same parameters, always False. Each
        password check thus verifies exactly one hash, whether or not the account exists."""
        self.verify(_stand_in_hash(self._argon), password)
        return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._argon.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def policy_problems(self, password: str) -> list[str]:
        """What is wrong with a new password; empty when it is acceptable."""
        problems = []
        if len(password) < self.min_length:
            problems.append(f"Must be at least {self.min_length} characters long")
        if len(password) > MAX_PASSWORD_LENGTH:
            problems.append(f"Must be at most {MAX_PASSWORD_LENGTH} characters long")
        if password.strip() == "":
            problems.append("Must not be blank")
        return problems


@cache
def _stand_in_hash(argon: _Argon2) -> str:
    """Made once per argon2 hasher, straight from it (it is nobody's password)."""
    return argon.hash("stand-in for accounts that cannot sign in")
