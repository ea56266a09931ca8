"""Enums of the contract (section 1); values are what the database and REST use."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum
class Role(Enum):
    ADMIN = "admin"
    USER = "user"


@strawberry.enum
class SortOrder(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.enum
class UserSortField(Enum):
    ID = "id"
    CREATED_AT = "created_at"
    NAME = "name"
    EMAIL = "email"


@strawberry.enum
class JobStatus(Enum):
    QUEUED = "queued"
    STARTED = "started"
    FINISHED = "finished"
    FAILED = "failed"
