"""Users cache entries kept decoded in this process: as fresh as the shared cache, bounded."""

from __future__ import annotations

import time
from contextlib import AsyncExitStack
from typing import Any

import pytest

from persistence import decoded_views
from persistence.decoded_views import DecodedViews
from resolvers.accounts import create_account
from resolvers.deps import Caller, Principal, Services
from resolvers.user_inputs import UserChanges
from resolvers.users import list_users, update_user
from server.app import create_app
from tests.conftest import PASSWORD


async def test_a_write_in_another_process_is_read_at_once(settings: Any, backend: str) -> None:
    """The reader keeps the page and the user decoded; a write made by another server sharing
    Redis (the same server without Redis: its memory is the cache) is read by the next request,
    not a copy kept from before it."""
    async with AsyncExitStack() as stack:
        apps = [create_app(settings) for _ in range(1 if backend == "embedded" else 2)]
        for app in apps:
            await stack.enter_async_context(app.router.lifespan_context(app))
        reader: Services = apps[0].state.services
        writer: Services = apps[-1].state.services
        admin = await create_account(
            writer, name="Before", email="a@example.com", password=PASSWORD, role="admin"
        )
        caller = Caller(request_id="t", principal=Principal(admin.id, "admin", "s"))
        for _ in range(2):
            page = await list_users(reader, caller)
            assert [user.name for user in page.items] == ["Before"]
            assert (await reader.users.user(admin.id)).name == "Before"  # type: ignore[union-attr]
        assert len(reader.decoded_users) >= 2  # the page and the user, kept decoded
        await update_user(writer, caller, user_id=admin.id, changes=UserChanges(name="After"))
        page = await list_users(reader, caller)
        assert [user.name for user in page.items] == ["After"]
        assert (await reader.users.user(admin.id)).name == "After"  # type: ignore[union-attr]
        assert (await reader.users.by_ids([admin.id]))[0].name == "After"  # type: ignore[union-attr]


def test_copies_are_bounded_by_the_views_they_hold() -> None:
    kept = DecodedViews(max_views=5)
    kept.put("page-1", "three views", views=3)
    kept.put("user-1", "one")
    kept.get("page-1")  # used: the user is now the oldest
    kept.put("user-2", "two")
    kept.put("user-3", "three")  # six views: the least recently used one goes
    assert kept.get("user-1") is None
    assert [kept.get(key) for key in ("page-1", "user-2", "user-3")] == [
        "three views",
        "two",
        "three",
    ]
    kept.put("page-2", "too big", views=6)  # more than the bound: not kept, nothing dropped
    assert kept.get("page-2") is None and len(kept) == 3
    assert DecodedViews(max_views=0).get("x") is None


def test_copies_live_a_few_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])  # the clock decoded_views reads
    kept = DecodedViews(max_views=10)
    kept.put("user-1", "one")
    now[0] += decoded_views.SECONDS - 0.1
    assert kept.get("user-1") == "one"
    now[0] += 0.2
    assert kept.get("user-1") is None and len(kept) == 0


def test_the_bound_is_a_setting() -> None:
    from core.settings import Settings

    assert Settings.from_env({"CACHE_LOCAL_VIEWS": "0"}).cache_local_views == 0
    with pytest.raises(Exception, match="CACHE_LOCAL_VIEWS"):
        Settings.from_env({"CACHE_LOCAL_VIEWS": "-1"}).validate()
