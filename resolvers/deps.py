"""What resolvers depend on: process-wide services and the caller of one request (no transport)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core import rbac
from core.clock import Clock, SystemClock
from core.errors import AppError, ErrorCode
from core.live_limits import LiveCounts
from core.passwords import PasswordHasher
from core.settings import Settings
from persistence.cache import Cache
from persistence.db import Database
from persistence.decoded_views import DecodedViews
from persistence.export_progress import InProcessFeed, ProgressFeed
from persistence.export_storage import ExportStorage
from persistence.mail import MailSender
from persistence.queue import JobQueue
from persistence.ratelimit import RateLimiter
from persistence.users_cache import CachedUsers
from persistence.views import UserView

if TYPE_CHECKING:
    from redis.asyncio import Redis


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user of a request, as the token and the database agreed on it."""

    user_id: int
    role: str
    session_id: str  # "" for an API key, which has no session
    api_key_id: int | None = None  # set when the caller signed in with an API key

    @property
    def is_admin(self) -> bool:
        """Whether the role grants "admin" (the role table's rule, `core.rbac.has_role`)."""
        return rbac.has_role(self.role, "admin")


@dataclass(slots=True)
class Caller:
    """Who is asking: resolved once per request by the authentication middleware."""

    request_id: str
    ip: str = "unknown"
    user_agent: str = ""
    principal: Principal | None = None
    # The principal's users row, read in the same SELECT as the session check: `me` answers
    # from it (nothing fresher exists within this request).
    user: UserView | None = None
    # Why a presented token was refused; raised only when an operation needs a principal.
    auth_error: AppError | None = None

    def require_principal(self) -> Principal:
        if self.principal is not None:
            return self.principal
        raise self.auth_error or AppError(ErrorCode.MISSING_AUTH_HEADER)


@dataclass(slots=True)
class Services:
    """Process-wide resources, opened by `resolvers.bootstrap.bootstrap` for a composition root."""

    settings: Settings
    db: Database
    hasher: PasswordHasher
    limiter: RateLimiter
    cache: Cache
    queue: JobQueue
    exports: ExportStorage
    mail_queue: JobQueue
    mail_sender: MailSender
    redis: Redis | None = None
    clock: Clock = field(default_factory=SystemClock)
    # When this process last wrote each session's `last_used_at` (resolvers.authn).
    session_touches: dict[str, float] = field(default_factory=dict)
    # The same for API keys, by key id.
    api_key_touches: dict[int, float] = field(default_factory=dict)
    # Export progress notices (Redis pub/sub, or in process) and this process's live slots.
    progress: ProgressFeed = field(default_factory=InProcessFeed)
    live: LiveCounts = field(default_factory=LiveCounts)
    # Users cache entries this process decoded lately (persistence.decoded_views).
    decoded_users: DecodedViews = field(init=False)

    def __post_init__(self) -> None:
        self.decoded_users = DecodedViews(self.settings.cache_local_views)

    @property
    def users(self) -> CachedUsers:
        """The users reads through the cache, and the one invalidation every users write calls."""
        return CachedUsers(self.db, self.cache, self.settings, self.decoded_users)
