"""Rate-limit counters: fixed windows in Redis (shared by every worker) or in process.

If Redis fails, counting falls back to this process's memory rather than letting requests
through: limits get looser across workers but never switch off.
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


def limit_key(scope: str, identity: str) -> str:
    """Keys carry a digest of the identity (an email or an IP), not the identity itself."""
    digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
    return f"rl:{scope}:{digest}"


class MemoryCounters:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}  # key -> (window end, count)
        self._lock = asyncio.Lock()

    async def hit(self, key: str, limit: RateLimit) -> int | None:
        """Count one attempt; the seconds to wait when over the limit, else None."""
        now = int(time.monotonic())
        async with self._lock:
            end, count = self._windows.get(key, (0, 0))
            if end <= now:
                end, count = now + limit.period, 0
                if len(self._windows) > 100_000:
                    self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
            count += 1
            self._windows[key] = (end, count)
        return max(1, end - now) if count > limit.count else None


class RateLimiter:
    def __init__(self, redis: Redis | None) -> None:
        self._redis = redis
        self._memory = MemoryCounters()
        self._script = redis.register_script(_HIT) if redis is not None else None

    async def hit(self, key: str, limit: RateLimit) -> int | None:
        """Count one attempt against `limit`: the Retry-After seconds when over it, else None."""
        if self._script is None:
            return await self._memory.hit(key, limit)
        try:
            count, ttl = await self._script(keys=[key], args=[limit.period])
        except Exception as exc:  # Redis down or slow: keep limiting, in process
            log.warning("rate-limit store unavailable, counting in process: %s", type(exc).__name__)
            return await self._memory.hit(key, limit)
        return max(1, int(ttl)) if int(count) > limit.count else None
