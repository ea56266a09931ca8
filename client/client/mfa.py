"""The TOTP second factor in the SDK: finishing a login, enrolling, recovery codes, a reset.

    try:
        api.login(email, password)
    except MfaRequired as needed:
        api.verify_mfa(needed.mfa_token, input("Code: "))

`MfaMethods` and `AsyncMfaMethods` hold the same methods for `APIClient` and `AsyncAPIClient`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from client import models
from client import operations as ops
from client.core import Call, ClientCore
from client.models import TokenPair, TotpEnrollment

T = TypeVar("T")


def _true(value: Any) -> bool:
    return bool(value)


def _codes(data: dict[str, Any]) -> list[str]:
    return [str(code) for code in data["codes"]]


def _enrollment(data: dict[str, Any]) -> TotpEnrollment:
    return TotpEnrollment(secret=data["secret"], otpauth_uri=data["otpauthUri"])


def verify_mfa(mfa_token: str, code: str) -> Call[TokenPair]:
    variables = {"mfaToken": mfa_token, "code": code}
    return Call(ops.VERIFY_MFA, variables, "verifyMfa", models.tokens_from, signed=False)


def enroll_totp(password: str) -> Call[TotpEnrollment]:
    return Call(ops.ENROLL_TOTP, {"password": password}, "enrollTotp", _enrollment)


def confirm_totp(code: str) -> Call[list[str]]:
    return Call(ops.CONFIRM_TOTP, {"code": code}, "confirmTotp", _codes)


def disable_totp(password: str, code: str) -> Call[bool]:
    variables = {"password": password, "code": code}
    return Call(ops.DISABLE_TOTP, variables, "disableTotp", _true)


def regenerate_recovery_codes(password: str, code: str) -> Call[list[str]]:
    variables = {"password": password, "code": code}
    return Call(ops.REGENERATE_RECOVERY_CODES, variables, "regenerateRecoveryCodes", _codes)


def reset_mfa(user_id: int | str) -> Call[bool]:
    return Call(ops.RESET_MFA, {"userId": str(user_id)}, "resetMfa", _true)


class MfaMethods:
    """The blocking client's second-factor methods."""

    _core: ClientCore

    def _run(self, call: Call[T]) -> T:
        raise NotImplementedError

    def verify_mfa(self, mfa_token: str, code: str) -> TokenPair:
        """Finish a login that raised MfaRequired (a TOTP or recovery code); keeps the tokens."""
        return self._core.store(self._run(verify_mfa(mfa_token, code)))

    def enroll_totp(self, password: str) -> TotpEnrollment:
        """A new secret and its otpauth:// URI, pending until `confirm_totp`."""
        return self._run(enroll_totp(password))

    def confirm_totp(self, code: str) -> list[str]:
        """Turn the second factor on; the 10 recovery codes, shown this once."""
        return self._run(confirm_totp(code))

    def disable_totp(self, password: str, code: str) -> None:
        """Turn the second factor off (a TOTP or recovery code); my other sessions end."""
        self._run(disable_totp(password, code))

    def regenerate_recovery_codes(self, password: str, code: str) -> list[str]:
        """Ten new recovery codes in place of the old; my other sessions end."""
        return self._run(regenerate_recovery_codes(password, code))

    def reset_mfa(self, user_id: int | str) -> None:
        """Turn a user's second factor off and end their sessions (admins only)."""
        self._run(reset_mfa(user_id))


class AsyncMfaMethods:
    """The asyncio client's second-factor methods (the same as `MfaMethods`)."""

    _core: ClientCore

    def _run(self, call: Call[T]) -> Awaitable[T]:
        raise NotImplementedError

    async def verify_mfa(self, mfa_token: str, code: str) -> TokenPair:
        return self._core.store(await self._run(verify_mfa(mfa_token, code)))

    async def enroll_totp(self, password: str) -> TotpEnrollment:
        return await self._run(enroll_totp(password))

    async def confirm_totp(self, code: str) -> list[str]:
        return await self._run(confirm_totp(code))

    async def disable_totp(self, password: str, code: str) -> None:
        await self._run(disable_totp(password, code))

    async def regenerate_recovery_codes(self, password: str, code: str) -> list[str]:
        return await self._run(regenerate_recovery_codes(password, code))

    async def reset_mfa(self, user_id: int | str) -> None:
        await self._run(reset_mfa(user_id))
