"""The Redis connection, when `REDIS_URL` is set: short timeouts and no retry storms."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from core.settings import Settings


def open_redis(settings: Settings) -> Redis | None:
    """A client that fails fast (a hung Redis must not stall requests), or None when unset."""
    if not settings.redis_url:
        return None
    return Redis.from_url(
        settings.redis_url,
        socket_timeout=settings.redis_timeout,
        socket_connect_timeout=settings.redis_timeout,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=30,
    )
