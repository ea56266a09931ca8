"""One sign-in attempt: its budgets around exactly one password verification.

Every door that checks a password (login, and register of an email that is taken) goes
through `sign_in_attempt`, so one identity has one budget whatever the door (README, "Security"):

- attempts per client (`LOGIN_RATE_LIMIT_IP`): every attempt, counted before any hashing, so a
  client cannot make the server hash more than that;
- failed sign-ins per account and client (`LOGIN_RATE_LIMIT_ACCOUNT`) and per account from all
  clients (`LOGIN_RATE_LIMIT_ACCOUNT_TOTAL`): checked before the hash is verified and counted
  after it, for failures only. An attempt holds its place while its hash is checked and gives
  it back when it succeeds, so a successful sign-in never spends them, and guesses in flight at
  once cannot all pass the check before any of them is counted.

The account is named by its normalised email, whether or not it exists, so an unknown email
behaves as a known one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from core.audit import AuditAction
from core.errors import AppError, ErrorCode
from core.ratelimit import client_key
from persistence import users as users_repo
from persistence.models import User
from resolvers.audit import security_event
from resolvers.audit_log import record_alone
from resolvers.deps import Caller, Services
from resolvers.limits import give_back, hold_places, limit_client


@dataclass(slots=True)
class SignInAttempt:
    services: Services
    succeeded: bool = False

    async def verify(self, user: User | None, password: str) -> bool:
        """Whether `password` signs in as `user` (None: no such account). Exactly one hash is
        verified either way, off the event loop; an account that cannot sign in (deactivated,
        deleted) is checked against a stand-in, so its real password is not confirmed."""
        hasher = self.services.hasher
        if user is None or user.deleted_at is not None or not user.is_active:
            await asyncio.to_thread(hasher.verify_absent, password)
            return False
        self.succeeded = await asyncio.to_thread(hasher.verify, user.password_hash, password)
        return self.succeeded


@asynccontextmanager
async def sign_in_attempt(
    services: Services, caller: Caller, email: str
) -> AsyncIterator[SignInAttempt]:
    """Admit one attempt to sign in as `email` (normalised) or raise RATE_LIMITED; the block
    verifies the password once through the attempt. It counts as a failure unless it
    succeeded or raised (an outage is not a wrong password)."""
    settings = services.settings
    await limit_client(services, caller, "login-ip", settings.login_rate_limit_ip)
    client = client_key(caller.ip)
    held = await hold_places(
        services,
        caller,
        [
            ("login-account-client", f"{email}\n{client}", settings.login_rate_limit_account),
            ("login-account", email, settings.login_rate_limit_account_total),
        ],
    )
    attempt = SignInAttempt(services)
    try:
        yield attempt
    except BaseException:
        await give_back(services, held)
        raise
    if attempt.succeeded:
        await give_back(services, held)


async def confirm_password(services: Services, caller: Caller, password: str, door: str) -> User:
    """The caller's own row once `password` is theirs: a sign-in attempt with its budgets
    (a wrong one is INVALID_CREDENTIALS and counts as a failed sign-in)."""
    principal = caller.require_principal()
    async with services.db.transaction() as session:
        user = await users_repo.get(session, principal.user_id)
    if user is None:
        raise AppError(ErrorCode.TOKEN_REVOKED)
    async with sign_in_attempt(services, caller, user.email) as attempt:
        verified = await attempt.verify(user, password)
    if not verified:
        await failed_sign_in(services, caller, door=door, user_id=user.id)
        raise AppError(ErrorCode.INVALID_CREDENTIALS)
    return user


async def failed_sign_in(
    services: Services,
    caller: Caller,
    *,
    door: str,
    user_id: int | None,
    reason: str = "invalid_credentials",
) -> None:
    """A refused sign-in: a security log line, and a `login.failed` event in its own short
    transaction (nothing else is written), naming the account when one holds that email."""
    security_event(caller, "login_failed", door=door)
    await record_alone(
        services,
        caller,
        AuditAction.LOGIN_FAILED,
        subject_id=user_id,
        details={"door": door, "reason": reason},
    )
