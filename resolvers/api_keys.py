"""API keys (personal access tokens): create one (its secret shown once), list mine, revoke.

A key is a credential, and credentials are managed only from a session: every operation here
refuses a caller signed in with an API key (`forbid_api_key`). How a key signs a request in is
`resolvers.authn`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core import api_keys
from core.audit import AuditAction
from core.errors import AppError, ErrorCode, Problems
from persistence import api_keys as api_keys_repo
from persistence.api_keys import ApiKeyView
from persistence.models import ApiKey
from resolvers.access import forbid_api_key
from resolvers.audit_log import record
from resolvers.deps import Caller, Services

# Live keys per account: enough for every machine a person runs, and a bound on the table.
MAX_LIVE_KEYS = 100


@dataclass(frozen=True, slots=True)
class NewApiKey:
    api_key: ApiKeyView
    secret: str  # shown once: only its keyed hash is stored


async def my_api_keys(services: Services, caller: Caller) -> list[ApiKeyView]:
    """The caller's unrevoked keys, newest first."""
    principal = forbid_api_key(caller)
    async with services.db.transaction() as session:
        return await api_keys_repo.of_user(session, principal.user_id)


async def create_api_key(
    services: Services, caller: Caller, *, name: str, expires_in_days: int | None
) -> NewApiKey:
    """A new key of the caller's, acting with their role until revoked or expired."""
    principal = forbid_api_key(caller)
    name = name.strip()
    _check(name, expires_in_days)
    secret, now = api_keys.new_secret(), services.clock.now()
    row = ApiKey(
        user_id=principal.user_id,
        name=name,
        secret_hash=api_keys.secret_hash(
            api_keys.hashing_key(services.settings.secret_key), secret
        ),
        prefix=api_keys.shown_prefix(secret),
        created_at=now,
        expires_at=None if expires_in_days is None else now + timedelta(days=expires_in_days),
    )
    async with services.db.transaction() as session:
        if await api_keys_repo.live_count(session, principal.user_id) >= MAX_LIVE_KEYS:
            raise AppError(
                ErrorCode.VALIDATION_ERROR,
                "Too many API keys",
                {"name": [f"At most {MAX_LIVE_KEYS} live keys; revoke one first"]},
            )
        view = await api_keys_repo.add(session, row)
        details = {"key_id": view.id, "name": name, "expires_at": row.expires_at}
        await record(
            session,
            caller,
            AuditAction.APIKEY_CREATED,
            subject_id=principal.user_id,
            details={k: v for k, v in details.items() if v is not None},
            at=now,
        )
    return NewApiKey(view, secret)


async def revoke_api_key(services: Services, caller: Caller, *, key_id: str) -> bool:
    """Revoke one of the caller's keys (admins: anyone's); it stops working at once. Another
    user's key, an unknown or an already revoked one is NOT_FOUND."""
    principal = forbid_api_key(caller)
    text = key_id.strip()
    if not text.isdigit() or len(text) > 18:
        raise AppError(ErrorCode.NOT_FOUND, "API key not found")
    owner = None if principal.is_admin else principal.user_id
    async with services.db.transaction() as session:
        revoked = await api_keys_repo.revoke(
            session, int(text), owner=owner, now=services.clock.now()
        )
        if revoked:
            key = await session.get(ApiKey, int(text))
            await record(
                session,
                caller,
                AuditAction.APIKEY_REVOKED,
                subject_id=key.user_id if key is not None else None,
                details={"key_id": int(text)},
            )
    if not revoked:
        raise AppError(ErrorCode.NOT_FOUND, "API key not found")
    return True


def _check(name: str, expires_in_days: int | None) -> None:
    problems = Problems()
    if not name:
        problems.add("name", "Must not be empty")
    if len(name) > api_keys.MAX_NAME_LENGTH:
        problems.add("name", f"At most {api_keys.MAX_NAME_LENGTH} characters")
    if expires_in_days is not None and not 1 <= expires_in_days <= api_keys.MAX_LIFETIME_DAYS:
        problems.add("expiresInDays", f"Between 1 and {api_keys.MAX_LIFETIME_DAYS}, or null")
    problems.raise_if_any()
