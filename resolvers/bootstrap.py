"""The process-wide resources, opened in one place: the API's lifespan, the RQ worker and each of
its jobs, every CLI command and the tests all run inside `async with bootstrap(settings)`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from core.passwords import PasswordHasher
from core.settings import Settings
from persistence.cache import open_cache
from persistence.db import Database
from persistence.export_progress import open_feed
from persistence.export_storage import open_storage
from persistence.mail import open_sender
from persistence.queue import RQ_MAIL_FUNCTION, open_queue
from persistence.ratelimit import RateLimiter
from persistence.redis import open_redis
from resolvers.deps import Services


@asynccontextmanager
async def bootstrap(settings: Settings) -> AsyncIterator[Services]:
    """Services for `settings`: the engine, the cache, limits and queue all on REDIS_URL's
    Redis (in process without it), and the export storage EXPORT_STORAGE names; the pools are
    closed when the block ends."""
    db = Database.open(settings)
    redis = open_redis(settings)
    try:
        yield Services(
            settings=settings,
            db=db,
            hasher=PasswordHasher.for_profile(
                settings.password_hash_profile, settings.password_min_length
            ),
            limiter=RateLimiter(redis),
            cache=open_cache(redis),
            queue=open_queue(settings),
            exports=open_storage(settings, db),
            mail_queue=open_queue(settings, RQ_MAIL_FUNCTION),
            mail_sender=open_sender(settings),
            redis=redis,
            progress=open_feed(redis),
        )
    finally:
        if redis is not None:
            await redis.aclose()
        await db.close()
