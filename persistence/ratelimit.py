"""Rate-limit counters: fixed windows in Redis (shared by every worker) or in process.

If Redis fails, counting falls back to this process's memory rather than letting requests
through: limits get looser across workers but never switch off.

Two ways to count: `hit` counts every attempt; `reserve` takes a place only while there is
one (a refused attempt takes none) and `release` gives it back, for budgets that count failures
only: the place is held while the attempt runs, so attempts in flight at once cannot all pass
the check before any of them is counted.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from typing import TYPE_CHECKING

from core.ratelimit import RateLimit

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("app.ratelimit")

# INCR and EXPIRE in one step, so a crash between them cannot leave a counter that never expires.
_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('TTL', KEYS[1])}
"""
# The same, undone at once when over the limit: {1 when the place was taken, else 0; TTL}.
_RESERVE = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('TTL', KEYS[1])
if count > tonumber(ARGV[2]) then
  redis.call('DECR', KEYS[1])
  return {0, ttl}
end
return {1, ttl}
"""
# Never below zero, and never a key without an expiry (DECR of a missing key would make one).
_RELEASE = """
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
return 0
"""


def limit_key(scope: str, identity: str) -> str:
    """Keys carry a digest of the identity (an email or an IP), not the identity itself."""
    digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
    return f"rl:{scope}:{digest}"


class MemoryCounters:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}  # key -> (window end, count)
        self._lock = asyncio.Lock()

    async def hit(self, key: str, limit: RateLimit, *, refused_counts: bool = True) -> int | None:
        """Count one attempt; the seconds to wait when over the limit, else None. With
        `refused_counts=False` an attempt over the limit leaves the count as it was."""
        now = int(time.monotonic())
        async with self._lock:
            end, count = self._windows.get(key, (0, 0))
            if end <= now:
                end, count = now + limit.period, 0
                if len(self._windows) > 100_000:
                    self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
            over = count + 1 > limit.count
            if refused_counts or not over:
                self._windows[key] = (end, count + 1)
        return max(1, end - now) if over else None

    async def release(self, key: str) -> None:
        now = int(time.monotonic())
        async with self._lock:
            end, count = self._windows.get(key, (0, 0))
            if end > now and count > 0:
                self._windows[key] = (end, count - 1)


class RateLimiter:
    def __init__(self, redis: Redis | None) -> None:
        self._redis = redis
        self._memory = MemoryCounters()
        self._hit = redis.register_script(_HIT) if redis is not None else None
        self._reserve = redis.register_script(_RESERVE) if redis is not None else None
        self._release = redis.register_script(_RELEASE) if redis is not None else None

    async def hit(self, key: str, limit: RateLimit) -> int | None:
        """Count one attempt against `limit`: the Retry-After seconds when over it, else None."""
        if self._hit is None:
            return await self._memory.hit(key, limit)
        try:
            count, ttl = await self._hit(keys=[key], args=[limit.period])
        except Exception as exc:  # Redis down or slow: keep limiting, in process
            _fallback(exc)
            return await self._memory.hit(key, limit)
        return max(1, int(ttl)) if int(count) > limit.count else None

    async def reserve(self, key: str, limit: RateLimit) -> int | None:
        """Take a place in `limit`'s window: None when taken, else the Retry-After seconds
        (and nothing was counted)."""
        if self._reserve is None:
            return await self._memory.hit(key, limit, refused_counts=False)
        try:
            taken, ttl = await self._reserve(keys=[key], args=[limit.period, limit.count])
        except Exception as exc:
            _fallback(exc)
            return await self._memory.hit(key, limit, refused_counts=False)
        return None if int(taken) else max(1, int(ttl))

    async def release(self, key: str) -> None:
        """Give back a place `reserve` took (a window that has ended keeps nothing to give)."""
        if self._release is None:
            await self._memory.release(key)
            return
        try:
            await self._release(keys=[key])
        except Exception as exc:
            _fallback(exc)
            await self._memory.release(key)


def _fallback(exc: Exception) -> None:
    log.warning("rate-limit store unavailable, counting in process: %s", type(exc).__name__)
