"""Export progress notices: a worker says "job X changed", live subscribers re-read the job.

Redis pub/sub when REDIS_URL is set (the worker may run on another machine), in this process
otherwise. A notice carries only the job id: the row stays the source of truth, so a lost notice
costs a late update (subscribers re-read the row every so often anyway), never a wrong one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Protocol

from redis.exceptions import RedisError

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

log = logging.getLogger("app.exports")
CHANNEL = "export-progress:"


class Listener(Protocol):
    async def wait(self, at_most: float) -> bool:
        """Wait for the next notice; False when `at_most` seconds passed without one."""
        ...


class ProgressFeed(Protocol):
    async def publish(self, job_id: str) -> None: ...

    def listen(self, job_id: str) -> AbstractAsyncContextManager[Listener]:
        """Notices about one job while the block runs; nothing of it is left after."""
        ...


class InProcessFeed:
    """Notices between the in-process export worker and the subscribers of this process."""

    def __init__(self) -> None:
        self.listeners: dict[str, set[asyncio.Event]] = {}

    async def publish(self, job_id: str) -> None:
        for event in self.listeners.get(job_id, ()):
            event.set()

    @asynccontextmanager
    async def listen(self, job_id: str) -> AsyncIterator[Listener]:
        event = asyncio.Event()
        self.listeners.setdefault(job_id, set()).add(event)
        try:
            yield _EventListener(event)
        finally:
            waiting = self.listeners.get(job_id, set())
            waiting.discard(event)
            if not waiting:
                self.listeners.pop(job_id, None)


class _EventListener:
    def __init__(self, event: asyncio.Event) -> None:
        self.event = event

    async def wait(self, at_most: float) -> bool:
        try:
            async with asyncio.timeout(at_most):
                await self.event.wait()
        except TimeoutError:
            return False
        self.event.clear()
        return True


class RedisFeed:
    """One Redis channel per job; a subscriber holds a pub/sub connection while it listens."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def publish(self, job_id: str) -> None:
        try:
            await self.redis.publish(CHANNEL + job_id, b"1")
        except RedisError as exc:  # subscribers still re-read the row on their own
            log.warning("progress notice for %s not sent: %s", job_id, type(exc).__name__)

    @asynccontextmanager
    async def listen(self, job_id: str) -> AsyncIterator[Listener]:
        pubsub = self.redis.pubsub()
        try:
            try:
                await pubsub.subscribe(CHANNEL + job_id)
            except RedisError as exc:
                log.warning("progress of %s polled: %s", job_id, type(exc).__name__)
            yield _PubSubListener(pubsub)
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]  # unsubscribes and gives the connection back


class _PubSubListener:
    def __init__(self, pubsub: PubSub) -> None:
        self.pubsub = pubsub

    async def wait(self, at_most: float) -> bool:
        deadline = time.monotonic() + at_most
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = await self.pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=left
                )
            except (RedisError, RuntimeError):  # Redis gone, or never subscribed: poll instead
                await asyncio.sleep(left)
                return False
            if message is not None:
                return True
        return False


def open_feed(redis: Redis | None) -> ProgressFeed:
    return RedisFeed(redis) if redis is not None else InProcessFeed()
