"""Per-request dataloaders: relations batch by id, one SELECT per level of a query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiodataloader import DataLoader

from persistence import users as users_repo
from persistence.models import User
from resolvers.deps import Services


@dataclass(slots=True)
class Loaders:
    user_by_id: DataLoader[int, User | None]

    @classmethod
    def for_request(cls, services: Services) -> Loaders:
        """Fresh loaders inside the running loop (a loader made elsewhere fails on await)."""

        async def load_users(ids: Sequence[int]) -> list[User | None]:
            async with services.db.transaction() as session:
                found = await users_repo.get_many(session, ids)
            return [found.get(user_id) for user_id in ids]

        return cls(user_by_id=DataLoader(load_users))
