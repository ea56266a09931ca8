"""Cache invalidation between hosts survives a Redis blip during a write: the generation bump
fails for real (the writer's link to Redis is cut through a TCP proxy), the write commits, and
no host is served the old generation's pages once the writer reaches Redis again."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import pytest

from core.settings import Settings
from resolvers.bootstrap import bootstrap
from resolvers.deps import Caller, Principal, Services
from resolvers.user_inputs import UserChanges
from resolvers.users import get_user, list_users, update_user
from tests.conftest import Accounts
from tests.tcp_proxy import TCPProxy

pytestmark = pytest.mark.mysql_only  # the cache shared between hosts is Redis


async def name_of(services: Services, caller: Caller, user_id: int) -> str | None:
    found = await get_user(services, caller, user_id=user_id)
    return None if found is None else found.name


async def test_a_failed_generation_bump_leaves_no_stale_pages(
    accounts: Accounts, settings: Settings
) -> None:
    reader = accounts.services  # host B: its own link to Redis
    admin = await accounts.user("admin@example.com", role="admin")
    user = await accounts.user("user@example.com", name="Before")
    caller = Caller(request_id="t", principal=Principal(admin.id, "admin", "s"))
    redis = urlsplit(str(settings.redis_url))
    proxy = await TCPProxy(redis.hostname or "127.0.0.1", redis.port or 6379).start()
    through_proxy = settings.with_(redis_url=f"redis://127.0.0.1:{proxy.port}{redis.path}")
    try:
        async with bootstrap(through_proxy) as writer:  # host A, reaching Redis through the proxy
            assert await name_of(reader, caller, user.id) == "Before"  # cached
            page = await list_users(reader, caller)
            assert {u.email: u.name for u in page.items}["user@example.com"] == "Before"
            proxy.cut()  # the blip: A's connections drop, new ones are refused
            changes = UserChanges(name="After")
            written = await update_user(writer, caller, user_id=user.id, changes=changes)
            assert written.name == "After"  # the write committed; its bump failed
            assert await writer.cache.generation("users") == -1  # A itself skips the cache
            proxy.restore()  # Redis answers A again
            for _ in range(40):  # the pending bump is retried every 50 ms
                if await writer.cache.generation("users") >= 0:
                    break
                await asyncio.sleep(0.05)
            # B, whose link never broke, must not serve the pages it cached before the write.
            assert await name_of(reader, caller, user.id) == "After"
            page = await list_users(reader, caller)
            assert {u.email: u.name for u in page.items}["user@example.com"] == "After"
    finally:
        await proxy.close()
