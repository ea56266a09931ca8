"""Rate limits as the use cases meet them: per client (an IPv4 address or an IPv6 /64), or
places held in a budget while an attempt runs."""

from __future__ import annotations

from collections.abc import Sequence

from core import metrics
from core.errors import AppError, ErrorCode
from core.ratelimit import RateLimit, client_key
from persistence.ratelimit import limit_key
from resolvers.audit import security_event
from resolvers.deps import Caller, Services

Budget = tuple[str, str, str]  # scope, identity, limit spec


async def limit_client(services: Services, caller: Caller, scope: str, spec: str) -> None:
    """Count one attempt of the caller's client; RATE_LIMITED with the seconds to wait when over."""
    await limit_identity(services, caller, scope, client_key(caller.ip), spec)


async def limit_identity(
    services: Services, caller: Caller, scope: str, identity: str, spec: str
) -> None:
    """Count one attempt for `identity` (a client, an address); RATE_LIMITED when over."""
    limit = RateLimit.parse(spec)
    retry_after = await services.limiter.hit(limit_key(scope, identity), limit)
    if retry_after is not None:
        raise rate_limited(caller, scope, limit, retry_after)


async def limit_mail(services: Services, caller: Caller, scope: str, address: str) -> None:
    """Mails asked for, per client and per address (known or not, alike)."""
    settings = services.settings
    await limit_client(services, caller, f"{scope}-ip", settings.mail_rate_limit_ip)
    await limit_identity(
        services, caller, f"{scope}-address", address, settings.mail_rate_limit_address
    )


async def hold_places(services: Services, caller: Caller, budgets: Sequence[Budget]) -> list[str]:
    """Take a place in each budget, for `give_back` to return; when one is full, RATE_LIMITED
    and none is held."""
    held: list[str] = []
    for scope, identity, spec in budgets:
        limit, key = RateLimit.parse(spec), limit_key(scope, identity)
        retry_after = await services.limiter.reserve(key, limit)
        if retry_after is not None:
            await give_back(services, held)
            raise rate_limited(caller, scope, limit, retry_after)
        held.append(key)
    return held


async def give_back(services: Services, held: Sequence[str]) -> None:
    for key in held:
        await services.limiter.release(key)


def rate_limited(caller: Caller, scope: str, limit: RateLimit, retry_after: int) -> AppError:
    metrics.RATE_LIMITED.labels(scope).inc()
    security_event(caller, "rate_limited", scope=scope, retry_after=retry_after)
    return AppError(
        ErrorCode.RATE_LIMITED,
        f"Too many attempts; retry in {retry_after} s",
        {"retry_after": retry_after, "limit": limit.count, "window": limit.period},
    )
