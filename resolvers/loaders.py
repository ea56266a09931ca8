"""Per-request dataloaders: relations batch by id, one cache MGET and at most one SELECT per level
of a query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiodataloader import DataLoader

from persistence.views import UserView
from resolvers.access import sees_everything, shown_to
from resolvers.deps import Caller, Services


@dataclass(slots=True)
class Loaders:
    user_by_id: DataLoader[int, UserView | None]

    @classmethod
    def for_request(cls, services: Services, caller: Caller) -> Loaders:
        """Fresh loaders inside the running loop (a loader made elsewhere fails on await);
        the users they load are as `caller` may see them."""

        async def load_users(ids: Sequence[int]) -> list[UserView | None]:
            found = await services.users.by_ids(ids)
            if sees_everything(caller):
                return found
            return [None if user is None else shown_to(caller, user) for user in found]

        return cls(user_by_id=DataLoader(load_users))
