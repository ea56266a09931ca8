"""What every second-factor flow shares: the sealed secret, checking a code once under its
budgets, and the ticket a login answers MFA_REQUIRED with.

A wrong code counts against two budgets (README, "Second factor"): per ticket
(`MFA_RATE_LIMIT_TICKET`) and per account (`MFA_RATE_LIMIT_ACCOUNT`, every flow that checks a
code). A check holds its place while it runs and gives it back unless the code was wrong, as
the sign-in budgets do, so guesses sent at once cannot all pass before one is counted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from core import email_tokens, secret_box, tokens, totp
from core.errors import AppError, ErrorCode
from persistence import mfa as mfa_repo
from persistence import users as users_repo
from persistence.models import MfaTicket, TotpFactor, User
from resolvers.deps import Caller, Services
from resolvers.limits import Budget, give_back, hold_places

_SECRET_PURPOSE, _RECOVERY_PURPOSE = "totp-secret", "recovery-code"


def seal_secret(services: Services, user_id: int, secret: str) -> str:
    key = secret_box.derive_key(services.settings.secret_key, _SECRET_PURPOSE)
    return secret_box.seal(key, secret, owner=f"user:{user_id}")


def recovery_hashes(services: Services, codes: list[str]) -> list[str]:
    key = secret_box.derive_key(services.settings.secret_key, _RECOVERY_PURPOSE)
    return [totp.recovery_code_hash(key, code) for code in codes]


def step_matching(services: Services, factor: TotpFactor, code: str) -> int | None:
    """The time step `code` (normalised, six digits) belongs to, for this factor's secret and
    the clock; None when it matches none, or the secret no longer opens (SECRET_KEY changed)."""
    key = secret_box.derive_key(services.settings.secret_key, _SECRET_PURPOSE)
    secret = secret_box.open_sealed(key, factor.secret_sealed, owner=f"user:{factor.user_id}")
    if secret is None or not totp.is_totp_code(code):
        return None
    return totp.matching_step(secret, code, services.clock.now())


async def use_code(
    services: Services, session: AsyncSession, factor: TotpFactor, code: str
) -> bool:
    """Spend `code` of a confirmed factor, in the caller's transaction: a TOTP code's time step
    (at most once per step, never an older one) or an unused recovery code."""
    code = totp.normalise_code(code)
    if not code or len(code) > totp.MAX_CODE_LENGTH:
        return False
    if totp.is_totp_code(code):
        step = step_matching(services, factor, code)
        return step is not None and await mfa_repo.use_step(session, factor.user_id, step)
    (code_hash,) = recovery_hashes(services, [code])
    now = services.clock.now()
    return await mfa_repo.redeem_recovery_code(session, factor.user_id, code_hash, now)


@asynccontextmanager
async def code_attempt(
    services: Services, caller: Caller, user_id: int, ticket_hash: str | None = None
) -> AsyncIterator[None]:
    """Admit one second-factor check for `user_id` (and a ticket) or raise RATE_LIMITED. A
    block that raises INVALID_MFA_CODE keeps its places (a counted failure); any other ending
    gives them back."""
    settings = services.settings
    budgets: list[Budget] = [("mfa-account", str(user_id), settings.mfa_rate_limit_account)]
    if ticket_hash is not None:
        budgets.insert(0, ("mfa-ticket", ticket_hash, settings.mfa_rate_limit_ticket))
    held = await hold_places(services, caller, budgets)
    try:
        yield
    except AppError as error:
        if error.code is not ErrorCode.INVALID_MFA_CODE:
            await give_back(services, held)
        raise
    except BaseException:
        await give_back(services, held)
        raise
    await give_back(services, held)


def client_fingerprint(services: Services, caller: Caller) -> str:
    return tokens.fingerprint(services.settings.token_fingerprint, caller.ip, caller.user_agent)


async def second_factor_required(
    services: Services, caller: Caller, user: User, new_hash: str | None
) -> AppError:
    """The password was right and the account has TOTP on: store a single-use ticket (5
    minutes, bound to this client and the account's token version) and answer MFA_REQUIRED
    with it. A rehash the login asked for is written now."""
    ticket, now = email_tokens.new_token(), services.clock.now()
    row = MfaTicket(
        ticket_hash=email_tokens.token_hash(ticket),
        user_id=user.id,
        token_version=user.token_version,
        fingerprint=client_fingerprint(services, caller),
        created_at=now,
        expires_at=now + totp.TICKET_LIFETIME,
    )
    async with services.db.transaction() as session:
        if new_hash is not None:
            await users_repo.set_password_hash(session, user.id, new_hash)
        await mfa_repo.issue_ticket(session, row)
    return AppError(ErrorCode.MFA_REQUIRED, details={"mfa_token": ticket})
