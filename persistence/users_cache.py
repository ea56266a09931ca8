"""The users read cache: pages and users as plain dicts under the users generation.

Every write to the users table bumps the generation after it commits (`invalidate`), so no
reader is served a value older than the last committed write. Reads hand out `UserView`s,
whether they came from the cache or the database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypeVar

from core import metrics
from core.settings import Settings
from persistence import driver_sql, user_listing
from persistence import users as users_repo
from persistence.cache import USERS_NAMESPACE, Cache
from persistence.db import Database
from persistence.decoded_views import DecodedViews
from persistence.user_listing import Position, UserQuery
from persistence.views import DATE_FIELDS, VIEW_FIELDS, UserView

# Bumped whenever a view's fields change: entries an older release cached (without the new
# fields) are then never read back.
_FORMAT = "v4"  # v3: mfa_enabled; v4: a page may be cached without its total (null)


def _data(user: UserView) -> dict[str, Any]:
    data = {name: getattr(user, name) for name in VIEW_FIELDS}
    for name in DATE_FIELDS:
        data[name] = data[name].isoformat() if data[name] is not None else None
    return data


def _view(data: dict[str, Any]) -> UserView:
    """A cached user's view: positional, in the view's order (a page rebuilds 100 of these
    on every cache hit; keywords and a copy of the dict cost a third more)."""
    values: list[Any] = [
        (_date(data[name]) if data[name] else None) if name in _DATES else data[name]
        for name in VIEW_FIELDS
    ]
    return UserView(*values)


_DATES = frozenset(DATE_FIELDS)
Decoded = TypeVar("Decoded")  # what a cache entry decodes to
_date = datetime.fromisoformat


def list_key(page: int, per_page: int, after: str | None, query: UserQuery) -> str:
    """The cache key of a users page (under the generation the reads prefix)."""
    filters = {f.name: getattr(query, f.name) for f in fields(query)}
    return f"list:{page}:{per_page}:{after}:{sorted(filters.items())}"


def total_key(query: UserQuery) -> str:
    """The cache key of a listing's total: its filters (any order)."""
    return f"total:{query.name}:{query.email}:{query.role}:{query.include_deleted}"


@dataclass(frozen=True, slots=True)
class PageRows:
    """The rows of one page, the matching total (None: not counted), and whether more follow."""

    items: list[UserView]
    total: int | None
    more: bool


@dataclass(frozen=True, slots=True)
class _DecodedPage:
    items: tuple[UserView, ...]
    total: int | None
    more: bool

    @classmethod
    def of(cls, data: dict[str, Any]) -> _DecodedPage:
        return cls(tuple(_view(item) for item in data["items"]), data["total"], data["more"])

    @property
    def views(self) -> int:
        return len(self.items) or 1


@dataclass(frozen=True, slots=True)
class CachedUsers:
    """Users reads through the cache; the database when it is off (`Settings.cache_enabled`:
    nothing a cached worker wrote is read either), down, or misses. What it reads or stores
    under the current generation is kept decoded a few seconds (`decoded`)."""

    db: Database
    cache: Cache
    settings: Settings
    decoded: DecodedViews

    async def invalidate(self) -> None:
        """After a committed write: every cached page and user is stale from now on."""
        await self.cache.bump(USERS_NAMESPACE)

    async def page(
        self,
        query: UserQuery,
        *,
        page: int,
        per_page: int,
        after: str | None,
        position: Position | None,
        counted: bool = True,
    ) -> PageRows:
        """A page of matching users: by number, or the `per_page` after `position`; with the
        total when `counted` or unfiltered (then one small read: persistence.user_listing)."""
        counted = counted or user_listing.unfiltered(query)
        full_key, cached = await self._get_decoded(
            list_key(page, per_page, after, query), _DecodedPage.of
        )
        if cached is not None:
            total = cached.total
            if total is None and counted:  # cached by a reader that did not count
                total = await self.total(query)
            return PageRows(list(cached.items), total, cached.more)
        async with self.db.reading() as connection:  # one snapshot for both
            total = await user_listing.count(connection, query) if counted else None
            offset, limit = (page - 1) * per_page, per_page + 1  # one more: is there a next?
            if position is None:
                items = await driver_sql.page(connection, query, offset=offset, limit=limit)
            else:
                items = await user_listing.page(
                    connection, query, offset=offset, limit=limit, after=position
                )
        more = len(items) > per_page
        del items[per_page:]
        if full_key is not None:  # the cache is on: the page is stored for the next reader
            value = {"items": [_data(u) for u in items], "total": total, "more": more}
            await self.cache.set(full_key, value, self.settings.cache_ttl)
            decoded = _DecodedPage(tuple(items), total, more)
            self.decoded.put(full_key, decoded, decoded.views)
        return PageRows(items, total, more)

    async def total(self, query: UserQuery) -> int:
        """The number of users matching `query`'s filters."""
        key, cached = await self._get_decoded(total_key(query), int)
        if cached is not None:
            return cached
        async with self.db.reading_now() as connection:
            total = await user_listing.count(connection, query)
        if key is not None:
            await self.cache.set(key, total, self.settings.cache_ttl)
        return total

    async def user(self, user_id: int) -> UserView | None:
        """One live user; None when absent or deleted."""
        key, cached = await self._get_decoded(f"user:{user_id}", _view)
        if cached is not None:
            return cached
        async with self.db.reading_now() as connection:
            user = await users_repo.get_view(connection, user_id)
        if user is not None and key is not None:
            await self.cache.set(key, _data(user), self.settings.cache_ttl)
            self.decoded.put(key, user)
        return user

    async def by_ids(self, ids: Sequence[int]) -> list[UserView | None]:
        """Users by id for the `createdBy` loader, deleted ones included: live users from the
        cache in one MGET, the others in one SELECT (live ones are then cached)."""
        generation = await self._generation()
        if generation is None:
            async with self.db.reading_now() as connection:
                read = await users_repo.get_many(connection, ids)
            return [read.get(user_id) for user_id in ids]
        keys = {user_id: _full_key(generation, f"user:{user_id}") for user_id in ids}
        decoded = self.decoded.get
        found: dict[int, UserView] = {}
        for user_id, key in keys.items():
            if (view := decoded(key)) is not None:
                found[user_id] = view
        shared = [user_id for user_id in keys if user_id not in found]
        if shared:
            cached = await self.cache.get_many([keys[user_id] for user_id in shared])
            for user_id, value in zip(shared, cached, strict=True):
                if value:
                    found[user_id] = view = _view(value)
                    self.decoded.put(keys[user_id], view)
        metrics.CACHE_LOOKUPS.labels("hit").inc(len(found))
        missing = [user_id for user_id in keys if user_id not in found]
        if missing:
            metrics.CACHE_LOOKUPS.labels("miss").inc(len(missing))
            async with self.db.reading_now() as connection:
                loaded = await users_repo.get_many(connection, missing)
            found.update(loaded)
            live = {keys[u.id]: u for u in loaded.values() if u.deleted_at is None}
            await self.cache.set_many(
                {key: _data(user) for key, user in live.items()}, self.settings.cache_ttl
            )
            for key, user in live.items():
                self.decoded.put(key, user)
        return [found.get(user_id) for user_id in ids]

    async def _generation(self) -> int | None:
        """The current generation, read before the database; None when off or unreachable."""
        if not self.settings.cache_enabled:
            return None
        generation = await self.cache.generation(USERS_NAMESPACE)
        return None if generation < 0 else generation

    async def _get_decoded(
        self, key: str, decode: Callable[[Any], Decoded]
    ) -> tuple[str | None, Decoded | None]:
        """The full key under the current generation and its value decoded (a user's view, a
        page's views, a total), neither when the cache is off or down: this process's copy when
        it has one under that key, else the shared entry's, then kept."""
        generation = await self._generation()
        if generation is None:
            return None, None
        full_key = _full_key(generation, key)
        value: Decoded | None = self.decoded.get(full_key)
        if value is None:
            raw = await self.cache.get(full_key)
            if raw is not None:
                value = decode(raw)
                self.decoded.put(full_key, value, getattr(value, "views", 1))
        metrics.CACHE_LOOKUPS.labels("miss" if value is None else "hit").inc()
        return full_key, value


def _full_key(generation: int, key: str) -> str:
    return f"{USERS_NAMESPACE}:{_FORMAT}:{generation}:{key}"
