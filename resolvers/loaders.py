"""Per-request dataloaders: relations batch by id, one cache MGET and at most one SELECT per level
of a query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiodataloader import DataLoader

from persistence.models import User
from resolvers.deps import Services
from resolvers.users import users_by_id


@dataclass(slots=True)
class Loaders:
    user_by_id: DataLoader[int, User | None]

    @classmethod
    def for_request(cls, services: Services) -> Loaders:
        """Fresh loaders inside the running loop (a loader made elsewhere fails on await)."""

        async def load_users(ids: Sequence[int]) -> list[User | None]:
            return await users_by_id(services, ids)

        return cls(user_by_id=DataLoader(load_users))
