"""SQLAlchemy models: the tables of the service (MySQL/MariaDB and SQLite alike)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.functions import FunctionElement

from core.etags import etag_of


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC with microseconds (MySQL DATETIME(6)); read back as aware UTC."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "mysql":
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use aware UTC datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


EMAIL_COLLATION = "utf8mb4_bin"  # MySQL/MariaDB; trailing spaces never reach it (trimmed)

# Integer primary keys: BIGINT on MySQL, INTEGER on SQLite (the only type it auto-increments).
BigId = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'user')", name="role"),
        # Pagination sorts by one of these with id as the tie-breaker: each sort has an index.
        Index("ix_users_created_at_id", "created_at", "id"),
        Index("ix_users_name_id", "name", "id"),
        # Live users in the default order, id included: a deep page's OFFSET and the count walk
        # this index alone, never the rows (see persistence.users.page_query).
        Index("ix_users_deleted_at_created_at_id", "deleted_at", "created_at", "id"),
        {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # Case-insensitive order on both backends (MySQL's collation already is; SQLite needs NOCASE).
    name: Mapped[str] = mapped_column(
        String(100).with_variant(String(100, collation="NOCASE"), "sqlite")
    )
    # Stored as core.validation.normalise_email gives it and compared byte for byte, so one
    # address is one account: utf8mb4_unicode_ci would take a fullwidth `j` or a zero-width
    # space for nothing. SQLite compares BINARY unless told otherwise (never NOCASE here).
    email: Mapped[str] = mapped_column(
        String(254).with_variant(String(254, collation=EMAIL_COLLATION), "mysql"), unique=True
    )
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="user")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Whether a confirmed TOTP factor guards sign-in (its row: `TotpFactor`).
    mfa_enabled: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def etag(self) -> str:
        """The strong validator both transports send: it changes on every write."""
        return etag_of(self.id, self.version)


class AuthSession(Base):
    """One login: its current access and refresh token ids, rotated together, revoked together."""

    __tablename__ = "auth_sessions"
    __table_args__ = (
        Index("ix_auth_sessions_user_id", "user_id"),
        {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"},
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    access_jti: Mapped[str] = mapped_column(String(64))
    refresh_jti: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # As seen at login; `last_used_at` moves at most once a minute (resolvers.sessions).
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ip_address: Mapped[str | None] = mapped_column(String(45), nullable=True)
    # The refresh token id rotated away last: REFRESH_REUSE_LEEWAY tells a second tab from a thief.
    previous_refresh_jti: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(255), nullable=True)


class ExportJob(Base):
    """An admin's CSV export: written when accepted, so it survives Redis and worker outages."""

    __tablename__ = "export_jobs"
    __table_args__ = (
        Index("ix_export_jobs_status_not_before", "status", "not_before"),
        {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    # What is exported: `users` (filter_json holds a UserQuery) or `audit` (an AuditQuery).
    kind: Mapped[str] = mapped_column(String(16), default="users", server_default="users")
    filter_json: Mapped[str] = mapped_column(String(2000), default="{}")
    requested_by: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    row_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    file_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    error: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ChunkBytes(TypeDecorator[bytes]):
    """Binary data; MEDIUMBLOB on MySQL (up to 16 MiB: BLOB holds only 64 KiB). aiomysql 0.3 cannot
    bind `bytes` with PyMySQL 1.2 (it imports a helper PyMySQL removed), so on MySQL the value
    travels as hex text and the server turns it back with UNHEX()."""

    impl = LargeBinary
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "mysql":
            return dialect.type_descriptor(mysql.MEDIUMBLOB())
        return dialect.type_descriptor(LargeBinary())

    def bind_expression(self, bindvalue: Any) -> Any:
        return _Unhex(bindvalue)

    def bind_processor(self, dialect: Dialect) -> Any:
        if dialect.name == "mysql":
            return lambda value: None if value is None else bytes(value).hex()
        return super().bind_processor(dialect)


class _Unhex(FunctionElement[bytes]):
    inherit_cache = True


@compiles(_Unhex)
def _unhex_plain(element: _Unhex, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(_Unhex, "mysql")
def _unhex_mysql(element: _Unhex, compiler: Any, **kw: Any) -> str:
    return f"UNHEX({compiler.process(element.clauses, **kw)})"


class ExportChunk(Base):
    """A piece of a finished export's CSV (EXPORT_STORAGE=database), in order by `seq`."""

    __tablename__ = "export_chunks"
    __table_args__ = ({"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"},)

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(ChunkBytes())


class AccountToken(Base):
    """A secret sent by e-mail (password reset, address verification), kept only as its hash."""

    __tablename__ = "account_tokens"
    __table_args__ = (
        Index("ix_account_tokens_user_id_purpose", "user_id", "purpose"),
        {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"},
    )

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    # The address the token was sent to: what a verification proves.
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class OutgoingMail(Base):
    """A mail asked for by a request: what to send and to whom, never a secret (the job makes
    the token when it sends). Written in the request's transaction, so nothing asked is lost."""

    __tablename__ = "outgoing_mails"
    __table_args__ = (
        Index("ix_outgoing_mails_sent_at_not_before", "sent_at", "not_before"),
        {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When its id was last handed to the queue: the sweep hands it again only after a while.
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(String(200), nullable=True)


class TotpFactor(Base):
    """A user's TOTP authenticator: pending until confirmed, its secret sealed
    (`core.secret_box`), and the last time step a code was accepted for, so a code (and any
    older one) is refused afterwards by every worker."""

    __tablename__ = "totp_factors"
    __table_args__ = ({"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"},)

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    secret_sealed: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class RecoveryCode(Base):
    """One single-use recovery code of a user, kept as its keyed hash."""

    __tablename__ = "recovery_codes"
    __table_args__ = (
        Index("ix_recovery_codes_user_id_code_hash", "user_id", "code_hash", unique=True),
        {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class MfaTicket(Base):
    """The ticket a login answers MFA_REQUIRED with: single use, short-lived, kept as its hash,
    bound to the client that passed the password and to the account's token version."""

    __tablename__ = "mfa_tickets"
    __table_args__ = (
        Index("ix_mfa_tickets_user_id", "user_id"),
        {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"},
    )

    ticket_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    token_version: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AuditEvent(Base):
    """Who did what to whom, from where, when: written in the transaction of the change.

    No foreign keys: an event outlives the rows it names, and an insert takes no lock on them.
    Newest first is (at, id) descending; each filter has an index ending in (at, id), so a
    keyset page is a range seek at any depth (bench/README.md, "Audit log").
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_at_id", "at", "id"),
        Index("ix_audit_events_action_at_id", "action", "at", "id"),
        Index("ix_audit_events_actor_id_at_id", "actor_id", "at", "id"),
        Index("ix_audit_events_subject_id_at_id", "subject_id", "at", "id"),
        {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    action: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    subject_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    ip_address: Mapped[str | None] = mapped_column(String(45), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(255), nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    details: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON (core.audit)


class LiveUserCount(Base):
    """A share of the live users count (migration 0011): triggers on `users` keep the rows
    exact in the writing transaction, and their sum is the unfiltered total (persistence.users)."""

    __tablename__ = "live_user_counts"
    __table_args__ = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}

    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    live: Mapped[int] = mapped_column(BigInteger)


class ApiKey(Base):
    """A personal access token: its secret kept only as a keyed hash (core.api_keys)."""

    __tablename__ = "api_keys"
    __table_args__ = (
        Index("ix_api_keys_user_id", "user_id"),
        {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    # What authentication looks a presented secret up by (unique: one key per secret).
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Moves at most once a minute (resolvers.authn), like a session's.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
