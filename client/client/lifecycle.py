"""The account lifecycle in the SDK: passwords, e-mail addresses, sessions, API keys, restoring
a user.

`AccountMethods` and `AsyncAccountMethods` hold the same methods for `APIClient` and
`AsyncAPIClient`; each is one `Call` (built below) sent through the client's `_run`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from client import models
from client import operations as ops
from client.core import Call
from client.models import ApiKey, NewApiKey, Session, User

T = TypeVar("T")


def _true(value: Any) -> bool:
    return bool(value)


def change_password(current_password: str, new_password: str) -> Call[bool]:
    variables = {"currentPassword": current_password, "newPassword": new_password}
    return Call(ops.CHANGE_PASSWORD, variables, "changePassword", _true)


def request_password_reset(email: str) -> Call[bool]:
    return Call(
        ops.REQUEST_PASSWORD_RESET, {"email": email}, "requestPasswordReset", _true, signed=False
    )


def reset_password(token: str, new_password: str) -> Call[bool]:
    variables = {"token": token, "newPassword": new_password}
    return Call(ops.RESET_PASSWORD, variables, "resetPassword", _true, signed=False)


def request_email_verification() -> Call[bool]:
    return Call(ops.REQUEST_EMAIL_VERIFICATION, {}, "requestEmailVerification", _true)


def verify_email(token: str) -> Call[User]:
    return Call(ops.VERIFY_EMAIL, {"token": token}, "verifyEmail", models.user_from, signed=False)


def change_email(password: str, new_email: str) -> Call[bool]:
    variables = {"password": password, "newEmail": new_email}
    return Call(ops.CHANGE_EMAIL, variables, "changeEmail", _true)


def my_sessions() -> Call[list[Session]]:
    return Call(ops.MY_SESSIONS, {}, "mySessions", models.sessions_from)


def user_sessions(user_id: int | str) -> Call[list[Session]]:
    return Call(ops.USER_SESSIONS, {"userId": str(user_id)}, "userSessions", models.sessions_from)


def revoke_session(session_id: str) -> Call[bool]:
    return Call(ops.REVOKE_SESSION, {"id": session_id}, "revokeSession", _true)


def revoke_user_sessions(user_id: int | str) -> Call[bool]:
    variables = {"userId": str(user_id)}
    return Call(ops.REVOKE_USER_SESSIONS, variables, "revokeUserSessions", _true)


def my_api_keys() -> Call[list[ApiKey]]:
    return Call(ops.MY_API_KEYS, {}, "myApiKeys", models.api_keys_from)


def create_api_key(name: str, expires_in_days: int | None) -> Call[NewApiKey]:
    variables = {"name": name, "expiresInDays": expires_in_days}
    return Call(ops.CREATE_API_KEY, variables, "createApiKey", models.new_api_key_from)


def revoke_api_key(key_id: int | str) -> Call[bool]:
    return Call(ops.REVOKE_API_KEY, {"id": str(key_id)}, "revokeApiKey", _true)


def restore_user(user_id: int | str) -> Call[User]:
    return Call(ops.RESTORE_USER, {"id": str(user_id)}, "restoreUser", models.user_from)


class AccountMethods:
    """The blocking client's lifecycle methods."""

    def _run(self, call: Call[T]) -> T:
        raise NotImplementedError

    def change_password(self, current_password: str, new_password: str) -> None:
        """Change my password; my other sessions end, this one goes on."""
        self._run(change_password(current_password, new_password))

    def request_password_reset(self, email: str) -> None:
        """Ask for a reset link by mail (the server answers alike whether the account exists)."""
        self._run(request_password_reset(email))

    def reset_password(self, token: str, new_password: str) -> None:
        """Set a new password with the mailed token; every session of the account ends."""
        self._run(reset_password(token, new_password))

    def request_email_verification(self) -> None:
        self._run(request_email_verification())

    def verify_email(self, token: str) -> User:
        return self._run(verify_email(token))

    def change_email(self, password: str, new_email: str) -> None:
        """Mail a link to `new_email`; the address changes once it is followed."""
        self._run(change_email(password, new_email))

    def list_sessions(self) -> list[Session]:
        """My live sessions, newest first."""
        return self._run(my_sessions())

    def list_user_sessions(self, user_id: int | str) -> list[Session]:
        """A user's live sessions (admins only)."""
        return self._run(user_sessions(user_id))

    def revoke_session(self, session_id: str) -> None:
        self._run(revoke_session(session_id))

    def revoke_user_sessions(self, user_id: int | str) -> None:
        self._run(revoke_user_sessions(user_id))

    def restore_user(self, id: int | str) -> User:  # `id`: the legacy name
        """Undo a soft delete (admins only)."""
        return self._run(restore_user(id))

    def create_api_key(self, name: str, expires_in_days: int | None = None) -> NewApiKey:
        """A new API key of mine (None: until revoked); keep its `secret`, shown only now, and
        use it as `APIClient(base_url, api_key=secret)`. Needs a session (login()), not a key."""
        return self._run(create_api_key(name, expires_in_days))

    def list_api_keys(self) -> list[ApiKey]:
        """My API keys (never their secrets), newest first."""
        return self._run(my_api_keys())

    def revoke_api_key(self, key_id: int | str) -> None:
        """Revoke one of my keys (admins: anyone's); it stops working at once."""
        self._run(revoke_api_key(key_id))


class AsyncAccountMethods:
    """The asyncio client's lifecycle methods (the same as `AccountMethods`)."""

    def _run(self, call: Call[T]) -> Awaitable[T]:
        raise NotImplementedError

    async def change_password(self, current_password: str, new_password: str) -> None:
        await self._run(change_password(current_password, new_password))

    async def request_password_reset(self, email: str) -> None:
        await self._run(request_password_reset(email))

    async def reset_password(self, token: str, new_password: str) -> None:
        await self._run(reset_password(token, new_password))

    async def request_email_verification(self) -> None:
        await self._run(request_email_verification())

    async def verify_email(self, token: str) -> User:
        return await self._run(verify_email(token))

    async def change_email(self, password: str, new_email: str) -> None:
        await self._run(change_email(password, new_email))

    async def list_sessions(self) -> list[Session]:
        return await self._run(my_sessions())

    async def list_user_sessions(self, user_id: int | str) -> list[Session]:
        return await self._run(user_sessions(user_id))

    async def revoke_session(self, session_id: str) -> None:
        await self._run(revoke_session(session_id))

    async def revoke_user_sessions(self, user_id: int | str) -> None:
        await self._run(revoke_user_sessions(user_id))

    async def restore_user(self, id: int | str) -> User:
        return await self._run(restore_user(id))

    async def create_api_key(self, name: str, expires_in_days: int | None = None) -> NewApiKey:
        return await self._run(create_api_key(name, expires_in_days))

    async def list_api_keys(self) -> list[ApiKey]:
        return await self._run(my_api_keys())

    async def revoke_api_key(self, key_id: int | str) -> None:
        await self._run(revoke_api_key(key_id))
