"""How many live connections and subscriptions each user holds open in this process."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from core.errors import AppError, ErrorCode


class LiveCounts:
    """Slots per (kind, user); a slot is given back when its block ends, however it ends."""

    def __init__(self) -> None:
        self.held: Counter[tuple[str, int]] = Counter()

    @contextmanager
    def slot(self, kind: str, user_id: int, limit: int) -> Iterator[None]:
        """Hold one `kind` slot of `user_id`; RATE_LIMITED when `limit` are already held."""
        key = (kind, user_id)
        if self.held[key] >= limit:
            raise AppError(
                ErrorCode.RATE_LIMITED,
                f"At most {limit} live {kind}s per user",
                {"retry_after": 1, "limit": limit},
            )
        self.held[key] += 1
        try:
            yield
        finally:
            self.held[key] -= 1
            if self.held[key] <= 0:
                del self.held[key]

    def total(self) -> int:
        return sum(self.held.values())
