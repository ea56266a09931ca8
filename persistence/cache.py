"""A small cache with versioned keys: Redis when configured, this process's memory otherwise.

Readers build keys from a namespace generation; writers bump the generation after they commit,
so no reader can be served a value older than the last committed write. Every failure of the
cache is a miss, never an error: the database stays the source of truth.
"""

from __future__ import annotations

import asyncio
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
    async def get_many(self, keys: list[str]) -> list[Any | None]: ...
    async def set(self, key: str, value: Any, ttl: int) -> None: ...
    async def set_many(self, values: dict[str, Any], ttl: int) -> None: ...
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

    async def get_many(self, keys: list[str]) -> list[Any | None]:
        return [await self.get(key) for key in keys]

    async def set(self, key: str, value: Any, ttl: int) -> None:
        self._entries[key] = (time.monotonic() + ttl, orjson.dumps(value))
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    async def set_many(self, values: dict[str, Any], ttl: int) -> None:
        for key, value in values.items():
            await self.set(key, value, ttl)

    async def generation(self, namespace: str) -> int:
        return self._generations.get(namespace, 0)

    async def bump(self, namespace: str) -> None:
        self._generations[namespace] = self._generations.get(namespace, 0) + 1


class RedisCache:
    """Shared by every process on REDIS_URL. A bump that fails (a Redis blip during a write) is
    not dropped: this process skips the cache until the bump is made, and retries it every
    BUMP_RETRY seconds, so it lands as soon as Redis answers again and the pages cached under
    the old generation stop being served."""

    BUMP_RETRY = 0.05

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._pending: set[str] = set()  # namespaces whose bump failed and is being retried
        self._retries: set[asyncio.Task[None]] = set()

    async def get(self, key: str) -> Any | None:
        try:
            raw = await self._redis.get(f"cache:{key}")
        except Exception as exc:  # a cache outage is a miss
            log.warning("cache get failed: %s", type(exc).__name__)
            return None
        return None if raw is None else orjson.loads(raw)

    async def get_many(self, keys: list[str]) -> list[Any | None]:
        """One MGET for all of them; an outage makes every one a miss."""
        if not keys:
            return []
        try:
            raws = await self._redis.mget([f"cache:{key}" for key in keys])
        except Exception as exc:
            log.warning("cache get failed: %s", type(exc).__name__)
            return [None] * len(keys)
        return [None if raw is None else orjson.loads(raw) for raw in raws]

    async def set(self, key: str, value: Any, ttl: int) -> None:
        try:
            await self._redis.set(f"cache:{key}", orjson.dumps(value), ex=ttl)
        except Exception as exc:
            log.warning("cache set failed: %s", type(exc).__name__)

    async def set_many(self, values: dict[str, Any], ttl: int) -> None:
        """One round trip: the SETs go in a pipeline (not a transaction)."""
        if not values:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key, value in values.items():
                    pipe.set(f"cache:{key}", orjson.dumps(value), ex=ttl)
                await pipe.execute()
        except Exception as exc:
            log.warning("cache set failed: %s", type(exc).__name__)

    async def generation(self, namespace: str) -> int:
        if namespace in self._pending:
            return -1  # an invalidation of ours is not in Redis yet: skip the cache
        try:
            raw = await self._redis.get(f"cache-gen:{namespace}")
        except Exception as exc:
            log.warning("cache generation read failed: %s", type(exc).__name__)
            return -1  # callers skip the cache when the generation is unknown
        return int(raw or 0)

    async def bump(self, namespace: str) -> None:
        if await self._incr(namespace) or namespace in self._pending:
            return
        self._pending.add(namespace)
        task = asyncio.create_task(self._retry_bump(namespace), name=f"cache-bump-{namespace}")
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)

    async def _incr(self, namespace: str) -> bool:
        try:
            await self._redis.incr(f"cache-gen:{namespace}")
        except Exception as exc:
            log.warning("cache invalidation failed, retrying: %s", type(exc).__name__)
            return False
        return True

    async def _retry_bump(self, namespace: str) -> None:
        """One bump covers every write that failed to bump meanwhile."""
        while not await self._incr(namespace):  # noqa: ASYNC110 (polling Redis, not an event)
            await asyncio.sleep(self.BUMP_RETRY)
        self._pending.discard(namespace)
        log.info("cache invalidation of %s made after a failure", namespace)


def open_cache(redis: Redis | None) -> Cache:
    return RedisCache(redis) if redis is not None else MemoryCache()
