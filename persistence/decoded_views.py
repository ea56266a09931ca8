"""This process's decoded copies of users cache entries, so a hot entry is not decoded again on
every request.

A cache entry's key holds the users generation (`persistence.users_cache`), and every committed
write bumps it: an entry under a generation is never rewritten with older data, and a reader
that finds the current generation (one Redis GET, as before) may reuse what it decoded under
that key a moment ago, exactly as fresh as the shared entry. Reading 100 cached users cost more
in reply parsing, JSON decoding and rebuilding views than the rest of the GraphQL page
(bench/README.md).

Copies live `SECONDS` at most (a value no write bumps, `lastLoginAt`, lags `CACHE_TTL` plus
that), and are bounded by the number of views they hold (`CACHE_LOCAL_VIEWS`; 0: none kept),
least recently used first out.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

SECONDS = 5.0


class DecodedViews:
    def __init__(self, max_views: int) -> None:
        self._entries: OrderedDict[str, tuple[float, int, Any]] = OrderedDict()
        self._max = max_views
        self._held = 0  # views held, in all entries

    def get(self, key: str) -> Any | None:
        """The decoded value under `key`, if copied in the last SECONDS."""
        found = self._entries.get(key)
        if found is None:
            return None
        if found[0] < time.monotonic():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return found[2]

    def put(self, key: str, value: Any, views: int = 1) -> None:
        """Keep `value` (immutable: every reader shares it), which holds `views` views."""
        if views > self._max:
            return
        if key in self._entries:
            self._drop(key)
        self._entries[key] = (time.monotonic() + SECONDS, views, value)
        self._held += views
        while self._held > self._max:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        self._held -= self._entries.pop(key)[1]

    def __len__(self) -> int:
        return len(self._entries)
