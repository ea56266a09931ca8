"""A small cache with versioned keys: Redis when configured, this process's memory otherwise.

Readers build keys from a namespace generation; writers bump the generation after they commit,
so no reader can be served a value older than the last committed write. Every failure of the
cache is a miss, never an error: the database stays the source of truth.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Protocol

import orjson

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("app.cache")

# Every write to the users table bumps this namespace after it commits.
USERS_NAMESPACE = "users"


class Cache(Protocol):
    async def get(self, key: str) -> Any | None: ...
    async def set(self, key: str, value: Any, ttl: int) -> None: ...
    async def generation(self, namespace: str) -> int: ...
    async def bump(self, namespace: str) -> None: ...


class MemoryCache:
    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._generations: dict[str, int] = {}
        self._max = max_entries

    async def get(self, key: str) -> Any | None:
        found = self._entries.get(key)
        if found is None or found[0] < time.monotonic():
            return None
        self._entries.move_to_end(key)
        return orjson.loads(found[1])

    async def set(self, key: str, value: Any, ttl: int) -> None:
        self._entries[key] = (time.monotonic() + ttl, orjson.dumps(value))
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    async def generation(self, namespace: str) -> int:
        return self._generations.get(namespace, 0)

    async def bump(self, namespace: str) -> None:
        self._generations[namespace] = self._generations.get(namespace, 0) + 1


class RedisCache:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def get(self, key: str) -> Any | None:
        try:
            raw = await self._redis.get(f"cache:{key}")
        except Exception as exc:  # a cache outage is a miss
            log.warning("cache get failed: %s", type(exc).__name__)
            return None
        return None if raw is None else orjson.loads(raw)

    async def set(self, key: str, value: Any, ttl: int) -> None:
        try:
            await self._redis.set(f"cache:{key}", orjson.dumps(value), ex=ttl)
        except Exception as exc:
            log.warning("cache set failed: %s", type(exc).__name__)

    async def generation(self, namespace: str) -> int:
        try:
            raw = await self._redis.get(f"cache-gen:{namespace}")
        except Exception as exc:
            log.warning("cache generation read failed: %s", type(exc).__name__)
            return -1  # callers skip the cache when the generation is unknown
        return int(raw or 0)

    async def bump(self, namespace: str) -> None:
        try:
            await self._redis.incr(f"cache-gen:{namespace}")
        except Exception as exc:
            log.warning("cache invalidation failed: %s", type(exc).__name__)


def open_cache(redis: Redis | None) -> Cache:
    return RedisCache(redis) if redis is not None else MemoryCache()
