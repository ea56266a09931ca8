"""One typed settings object, built once at start-up from the environment and passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import Field, dataclass, fields, replace
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from core.env import EnvReader, var
from core.ratelimit import RateLimit

Env = Literal["dev", "test", "prod"]
Fingerprint = Literal["ip+ua", "ua", "off"]

# Known to everybody who read this file: accepted in development, refused in production.
DEV_SECRET = "dev-insecure-secret-change-me-0123456789abcdef"  # nosec B105
MIN_SECRET_LENGTH = 32
# An HMAC key must be at least as long as the hash it feeds (RFC 7518 3.2).
JWT_KEY_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
DEFAULT_DATABASE_URL = "sqlite:///var/app.db"

_ENV_ALIASES: dict[str, Env] = {
    "dev": "dev",
    "development": "dev",
    "local": "dev",
    "test": "test",
    "testing": "test",
    "prod": "prod",
    "production": "prod",
}
_WEAK_SECRETS = {"", "change-me", "change-me-too", "secret", "changeme", DEV_SECRET}


class SettingsError(ValueError):
    """The environment describes a configuration the server refuses to run with."""


@dataclass(frozen=True, slots=True, repr=False)
class Settings:
    """Every setting, declared once: its type, its default (and production's, when it differs)
    and the environment variable it is read from (`from_env`, the contract's names)."""

    app_env: Env = "dev"  # APP_ENV or FLASK_ENV, with aliases: read first, it picks the defaults
    database_url: str = var(DEFAULT_DATABASE_URL, "DATABASE_URL", shown="url")
    secret_key: str = var(DEV_SECRET, "SECRET_KEY", prod="", shown="secret")
    jwt_secret: str = var(DEV_SECRET, "JWT_SECRET", prod="", shown="secret")
    jwt_alg: str = var("HS256", "JWT_ALG", "upper")
    jwt_issuer: str = "accounts-graphql"
    access_token_expires: int = var(600, "ACCESS_TOKEN_EXPIRES", "integer")
    refresh_token_expires: int = var(2_592_000, "REFRESH_TOKEN_EXPIRES", "integer")
    cors_origins: tuple[str, ...] = var(("*",), "CORS_ORIGINS", "items", prod=())
    log_json: bool = var(False, "LOG_JSON", "flag", prod=True)
    redis_url: str | None = var(None, "REDIS_URL", "optional", shown="url")
    max_content_length: int = var(2 * 1024 * 1024, "MAX_CONTENT_LENGTH", "size")
    password_min_length: int = var(8, "PASSWORD_MIN_LENGTH", "integer")
    password_hash_profile: Literal["owasp", "fast"] = var(
        "owasp", "PASSWORD_HASH_PROFILE", "choice", choices=("owasp", "fast")
    )
    token_fingerprint: Fingerprint = var(
        "ip+ua", "TOKEN_FINGERPRINT", "choice", choices=("ip+ua", "ua", "off")
    )
    trusted_proxies: tuple[str, ...] = var((), "TRUSTED_PROXIES", "items")
    login_rate_limit_account: str = var("10/minute", "LOGIN_RATE_LIMIT_ACCOUNT")
    login_rate_limit_ip: str = var("100/minute", "LOGIN_RATE_LIMIT_IP")
    register_rate_limit_ip: str = var("20/minute", "REGISTER_RATE_LIMIT_IP")
    refresh_rate_limit_ip: str = var("60/minute", "REFRESH_RATE_LIMIT_IP")
    db_timeout: float = var(5.0, "DB_TIMEOUT", "number")
    db_pool_size: int = var(10, "DB_POOL_SIZE", "integer")
    db_pool_timeout: float = var(5.0, "DB_POOL_TIMEOUT", "number")
    redis_timeout: float = var(0.3, "REDIS_TIMEOUT", "number")
    cache_ttl: int = var(300, "CACHE_TTL", "integer")
    cache_local_views: int = var(20_000, "CACHE_LOCAL_VIEWS", "integer")
    graphiql: bool = var(True, "GRAPHIQL", "flag", prod=False)
    graphql_introspection: bool = var(True, "GRAPHQL_INTROSPECTION", "flag", prod=False)
    graphql_max_depth: int = var(10, "GRAPHQL_MAX_DEPTH", "integer")
    graphql_max_aliases: int = var(15, "GRAPHQL_MAX_ALIASES", "integer")
    graphql_max_tokens: int = var(2000, "GRAPHQL_MAX_TOKENS", "integer")
    graphql_max_directives: int = var(20, "GRAPHQL_MAX_DIRECTIVES", "integer")
    graphql_max_root_fields: int = var(10, "GRAPHQL_MAX_ROOT_FIELDS", "integer")
    graphql_max_cost: int = var(5000, "GRAPHQL_MAX_COST", "integer")
    graphql_timeout: float = var(10.0, "GRAPHQL_TIMEOUT", "number")
    graphql_batch_limit: int = var(0, "GRAPHQL_BATCH_LIMIT", "integer")
    graphql_executor: Literal["compiled", "standard"] = var(
        "compiled", "GRAPHQL_EXECUTOR", "choice", choices=("compiled", "standard")
    )
    metrics_token: str | None = var(None, "METRICS_TOKEN", "optional", shown="secret")
    shutdown_drain_seconds: float = var(5.0, "SHUTDOWN_DRAIN_SECONDS", "number")
    rq_queue: str = var("exports", "RQ_QUEUE")
    export_dir: str = var("var/exports", "EXPORT_DIR")
    # Where finished CSVs are kept (README, "Export storage"): `local` (EXPORT_DIR), `database`
    # (chunks in MySQL) or `s3` (any S3-compatible store).
    export_storage: Literal["local", "database", "s3"] = var(
        "local", "EXPORT_STORAGE", "choice", choices=("local", "database", "s3")
    )
    export_s3_bucket: str = var("", "EXPORT_S3_BUCKET")
    export_s3_prefix: str = var("exports/", "EXPORT_S3_PREFIX")
    export_s3_endpoint_url: str | None = var(None, "EXPORT_S3_ENDPOINT_URL", "optional")
    export_s3_region: str = var("us-east-1", "EXPORT_S3_REGION")
    # Unset: boto3's own chain (AWS_* variables, a shared config file, an instance role).
    export_s3_access_key_id: str | None = var(None, "EXPORT_S3_ACCESS_KEY_ID", "optional")
    export_s3_secret_access_key: str | None = var(
        None, "EXPORT_S3_SECRET_ACCESS_KEY", "optional", shown="secret"
    )
    export_retention: int = var(86_400, "EXPORT_RETENTION", "integer")
    export_max_attempts: int = var(3, "EXPORT_MAX_ATTEMPTS", "integer")
    export_lease: int = var(120, "EXPORT_LEASE", "integer")
    export_sweep_interval: float = var(15.0, "EXPORT_SWEEP_INTERVAL", "number")
    export_batch_size: int = var(2000, "EXPORT_BATCH_SIZE", "integer")
    export_progress_interval: float = var(0.25, "EXPORT_PROGRESS_INTERVAL", "number")
    live_poll_interval: float = var(5.0, "LIVE_POLL_INTERVAL", "number")
    live_connections_per_user: int = var(5, "LIVE_CONNECTIONS_PER_USER", "integer")
    live_subscriptions_per_user: int = var(10, "LIVE_SUBSCRIPTIONS_PER_USER", "integer")
    bootstrap_admin_email: str | None = var(None, "BOOTSTRAP_ADMIN_EMAIL", "optional")
    bootstrap_admin_password: str | None = var(
        None, "BOOTSTRAP_ADMIN_PASSWORD", "optional", shown="secret"
    )
    # --- Sign-in budgets (README, "Security"). With LOGIN_RATE_LIMIT_ACCOUNT (failed sign-ins
    # per account and client) and LOGIN_RATE_LIMIT_IP (attempts per client) above: the failed
    # sign-ins per account from all clients together.
    login_rate_limit_account_total: str = var("100/minute", "LOGIN_RATE_LIMIT_ACCOUNT_TOTAL")
    # Seconds an expired or revoked session's row is kept (for the audit of "who was signed in
    # when") before the sweep deletes it.
    session_retention: int = var(604_800, "SESSION_RETENTION", "integer")
    # --- Operating (README "Operating"): the worker's own /metrics (0 turns it off).
    worker_metrics_host: str = var("127.0.0.1", "WORKER_METRICS_HOST")
    worker_metrics_port: int = var(9101, "WORKER_METRICS_PORT", "integer")
    # Tracing is on when an exporter or an OTLP endpoint is named; the SDK reads the rest of the
    # standard OTEL_* variables (service name, headers, sampler) itself.
    otel_sdk_disabled: bool = var(False, "OTEL_SDK_DISABLED", "flag")
    otel_traces_exporter: str | None = var(None, "OTEL_TRACES_EXPORTER", "optional")
    otel_endpoint: str | None = var(None, "OTEL_EXPORTER_OTLP_ENDPOINT", "optional", shown="url")
    otel_traces_endpoint: str | None = var(
        None, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "optional", shown="url"
    )
    # --- The account lifecycle (README, "Accounts"): mail, e-mailed tokens, sessions.
    smtp_url: str | None = var(None, "SMTP_URL", "optional", shown="url")
    mail_from: str = var("no-reply@localhost", "MAIL_FROM")
    mail_outbox_dir: str = var("var/outbox", "MAIL_OUTBOX_DIR")
    password_reset_url: str = var(
        "http://127.0.0.1:8000/reset-password?token={token}", "PASSWORD_RESET_URL"
    )
    email_verify_url: str = var(
        "http://127.0.0.1:8000/verify-email?token={token}", "EMAIL_VERIFY_URL"
    )
    require_verified_email: bool = var(False, "REQUIRE_VERIFIED_EMAIL", "flag")
    mail_rate_limit_address: str = var("3/hour", "MAIL_RATE_LIMIT_ADDRESS")
    mail_rate_limit_ip: str = var("20/hour", "MAIL_RATE_LIMIT_IP")
    refresh_reuse_leeway: int = var(0, "REFRESH_REUSE_LEEWAY", "integer")
    # --- The TOTP second factor (README, "Second factor"): the issuer authenticator apps show,
    # and the budgets of wrong codes per login ticket and per account.
    totp_issuer: str = var("accounts-graphql", "TOTP_ISSUER")
    mfa_rate_limit_ticket: str = var("5/5minutes", "MFA_RATE_LIMIT_TICKET")
    mfa_rate_limit_account: str = var("10/hour", "MFA_RATE_LIMIT_ACCOUNT")
    # --- Persisted operations and HTTP conventions (README, "Persisted operations").
    graphql_apq: bool = var(True, "GRAPHQL_APQ", "flag")
    graphql_apq_ttl: int = var(86_400, "GRAPHQL_APQ_TTL", "integer")
    graphql_safelist: str | None = var(None, "GRAPHQL_SAFELIST", "optional")
    graphql_safelist_admin_bypass: bool = var(False, "GRAPHQL_SAFELIST_ADMIN_BYPASS", "flag")
    cors_allow_headers: tuple[str, ...] = var((), "CORS_ALLOW_HEADERS", "items")
    # Days an audit event is kept before the API's hourly sweep deletes it; 0 keeps them all.
    audit_retention_days: int = var(365, "AUDIT_RETENTION_DAYS", "integer")
    # Not read from the environment: `manage.py serve --workers` sets it for its processes.
    workers: int = 1

    @property
    def is_prod(self) -> bool:
        return self.app_env == "prod"

    @property
    def cache_enabled(self) -> bool:
        """Whether the users cache is used. Without Redis, each of several workers would cache in
        its own memory and one worker's write could not invalidate another's copy: no cache then."""
        return self.cache_ttl > 0 and (self.redis_url is not None or self.workers <= 1)

    @property
    def tracing(self) -> bool:
        if self.otel_sdk_disabled or self.otel_traces_exporter == "none":
            return False
        return bool(self.otel_traces_exporter or self.otel_endpoint or self.otel_traces_endpoint)

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed (tests and the CLI use this)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        """Secrets hidden and URL passwords masked: settings end up in logs and tracebacks."""
        shown = (f"{f.name}={_shown(f, getattr(self, f.name))!r}" for f in fields(self))
        return f"Settings({', '.join(shown)})"

    def validate(self) -> Settings:
        """Refuse configurations that are unsafe or meaningless; return self when fine."""
        problems = self._secret_problems()
        if self.access_token_expires <= 0 or self.refresh_token_expires <= 0:
            problems.append("ACCESS_TOKEN_EXPIRES and REFRESH_TOKEN_EXPIRES must be positive")
        if self.password_min_length < 8:
            problems.append("PASSWORD_MIN_LENGTH must be at least 8")
        # A profile name, not a password.
        if self.is_prod and self.password_hash_profile != "owasp":  # nosec B105
            problems.append("PASSWORD_HASH_PROFILE=fast is for tests only")
        for name, spec in (
            ("LOGIN_RATE_LIMIT_ACCOUNT", self.login_rate_limit_account),
            ("LOGIN_RATE_LIMIT_IP", self.login_rate_limit_ip),
            ("LOGIN_RATE_LIMIT_ACCOUNT_TOTAL", self.login_rate_limit_account_total),
            ("REGISTER_RATE_LIMIT_IP", self.register_rate_limit_ip),
            ("REFRESH_RATE_LIMIT_IP", self.refresh_rate_limit_ip),
            ("MAIL_RATE_LIMIT_ADDRESS", self.mail_rate_limit_address),
            ("MAIL_RATE_LIMIT_IP", self.mail_rate_limit_ip),
            ("MFA_RATE_LIMIT_TICKET", self.mfa_rate_limit_ticket),
            ("MFA_RATE_LIMIT_ACCOUNT", self.mfa_rate_limit_account),
        ):
            try:
                RateLimit.parse(spec)
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
        if self.max_content_length <= 0:
            problems.append("MAX_CONTENT_LENGTH must be positive")
        if min(self.export_batch_size, self.live_connections_per_user) < 1:
            problems.append("EXPORT_BATCH_SIZE and LIVE_CONNECTIONS_PER_USER must be at least 1")
        if self.live_subscriptions_per_user < 1:
            problems.append("LIVE_SUBSCRIPTIONS_PER_USER must be at least 1")
        if self.export_progress_interval < 0 or self.live_poll_interval <= 0:
            problems.append(
                "EXPORT_PROGRESS_INTERVAL must be 0 or more, LIVE_POLL_INTERVAL positive"
            )
        if self.cache_local_views < 0:
            problems.append("CACHE_LOCAL_VIEWS must be 0 or more")
        if self.refresh_reuse_leeway < 0:
            problems.append("REFRESH_REUSE_LEEWAY must be 0 or more seconds")
        if self.graphql_apq_ttl <= 0:
            problems.append("GRAPHQL_APQ_TTL must be positive")
        if self.session_retention < 0:
            problems.append("SESSION_RETENTION must be 0 or more seconds")
        if self.audit_retention_days < 0:
            problems.append("AUDIT_RETENTION_DAYS must be 0 (keep every event) or more days")
        if (self.bootstrap_admin_email is None) != (self.bootstrap_admin_password is None):
            problems.append("BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD go together")
        if self.export_storage == "s3" and not self.export_s3_bucket:
            problems.append("EXPORT_STORAGE=s3 needs EXPORT_S3_BUCKET")
        if problems:
            raise SettingsError("invalid configuration: " + "; ".join(problems))
        return self

    def _secret_problems(self) -> list[str]:
        problems: list[str] = []
        if self.is_prod:
            for name, value in (("JWT_SECRET", self.jwt_secret), ("SECRET_KEY", self.secret_key)):
                if value.strip().lower() in _WEAK_SECRETS:
                    problems.append(f"{name} is missing or a known default")
                elif len(value) < MIN_SECRET_LENGTH:
                    problems.append(f"{name} is shorter than {MIN_SECRET_LENGTH} characters")
        elif len(self.jwt_secret) < MIN_SECRET_LENGTH:  # prod said so above
            problems.append(f"JWT_SECRET is shorter than {MIN_SECRET_LENGTH} characters")
        reported_jwt = any(problem.startswith("JWT_SECRET") for problem in problems)
        key_bytes = JWT_KEY_BYTES.get(self.jwt_alg)
        if key_bytes is None:
            problems.append("JWT_ALG must be one of HS256, HS384, HS512")
        elif not reported_jwt and len(self.jwt_secret.encode()) < key_bytes:
            # RFC 7518 3.2: an HMAC key at least as long as the hash; PyJWT refuses shorter ones
            # on decode, so every token would fail.
            problems.append(
                f"JWT_SECRET is shorter than {key_bytes} bytes, which JWT_ALG={self.jwt_alg} needs"
            )
        return problems

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the contract's variable names (section 5), validate, and return the settings."""
        env = os.environ if environ is None else environ
        raw_env = (env.get("APP_ENV") or env.get("FLASK_ENV") or "dev").strip().lower()
        if raw_env not in _ENV_ALIASES:
            raise SettingsError(
                f"invalid configuration: APP_ENV={raw_env!r} is not dev, test or prod"
            )
        app_env = _ENV_ALIASES[raw_env]
        reader = EnvReader(env, prod=app_env == "prod")
        values = {f.name: reader.read(f) for f in fields(cls) if "var" in f.metadata}
        if reader.problems:
            raise SettingsError("invalid configuration: " + "; ".join(reader.problems))
        return cls(app_env=app_env, **values).validate()


def _shown(setting: Field[Any], value: Any) -> Any:
    kind = setting.metadata.get("shown")
    if kind == "secret" and value:
        return "***"
    if kind == "url" and value:
        return _without_password(value)
    return value


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
