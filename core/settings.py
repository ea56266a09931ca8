"""One typed settings object, built once at start-up from the environment and passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from core.ratelimit import RateLimit

Env = Literal["dev", "test", "prod"]
Fingerprint = Literal["ip+ua", "ua", "off"]

# Known to everybody who read this file: accepted in development, refused in production.
DEV_SECRET = "dev-insecure-secret-change-me-0123456789abcdef"  # nosec B105
MIN_SECRET_LENGTH = 32
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


@dataclass(frozen=True, slots=True)
class Settings:
    app_env: Env = "dev"
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = DEV_SECRET
    jwt_secret: str = DEV_SECRET
    jwt_alg: str = "HS256"
    jwt_issuer: str = "accounts-graphql"
    access_token_expires: int = 600
    refresh_token_expires: int = 2_592_000
    cors_origins: tuple[str, ...] = ("*",)
    log_json: bool = False
    redis_url: str | None = None
    max_content_length: int = 2 * 1024 * 1024
    password_min_length: int = 8
    password_hash_profile: Literal["owasp", "fast"] = "owasp"
    token_fingerprint: Fingerprint = "ip+ua"
    trusted_proxies: tuple[str, ...] = ()
    login_rate_limit_account: str = "10/minute"
    login_rate_limit_ip: str = "100/minute"
    register_rate_limit_ip: str = "20/minute"
    refresh_rate_limit_ip: str = "60/minute"
    db_timeout: float = 5.0
    db_pool_size: int = 10
    db_pool_timeout: float = 5.0
    redis_timeout: float = 0.3
    cache_ttl: int = 300
    graphiql: bool = True
    graphql_introspection: bool = True
    graphql_max_depth: int = 10
    graphql_max_aliases: int = 15
    graphql_max_tokens: int = 2000
    graphql_max_directives: int = 20
    graphql_max_root_fields: int = 10
    graphql_max_cost: int = 5000
    graphql_timeout: float = 10.0
    graphql_batch_limit: int = 0
    metrics_token: str | None = field(default=None, repr=False)
    shutdown_drain_seconds: float = 5.0
    rq_queue: str = "exports"
    export_dir: str = "var/exports"
    export_retention: int = 86_400
    export_max_attempts: int = 3
    export_lease: int = 120
    export_sweep_interval: float = 15.0
    bootstrap_admin_email: str | None = None
    bootstrap_admin_password: str | None = field(default=None, repr=False)
    # --- Sign-in budgets (README, "Security"). With LOGIN_RATE_LIMIT_ACCOUNT (failed sign-ins
    # per account and client) and LOGIN_RATE_LIMIT_IP (attempts per client) above: the failed
    # sign-ins per account from all clients together.
    login_rate_limit_account_total: str = "100/minute"
    # --- retention of ended sessions (issue 15) -------------------------------------------------
    # Seconds an expired or revoked session's row is kept (for the audit of "who was signed in
    # when") before the sweep deletes it.
    session_retention: int = 604_800

    @property
    def is_prod(self) -> bool:
        return self.app_env == "prod"

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed (tests and the CLI use this)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def validate(self) -> Settings:
        """Refuse configurations that are unsafe or meaningless; return self when fine."""
        problems: list[str] = []
        if self.is_prod:
            for name, value in (("JWT_SECRET", self.jwt_secret), ("SECRET_KEY", self.secret_key)):
                if value.strip().lower() in _WEAK_SECRETS:
                    problems.append(f"{name} is missing or a known default")
                elif len(value) < MIN_SECRET_LENGTH:
                    problems.append(f"{name} is shorter than {MIN_SECRET_LENGTH} characters")
        if self.jwt_alg not in {"HS256", "HS384", "HS512"}:
            problems.append("JWT_ALG must be one of HS256, HS384, HS512")
        if not self.is_prod and len(self.jwt_secret) < MIN_SECRET_LENGTH:  # prod said so above
            problems.append(f"JWT_SECRET is shorter than {MIN_SECRET_LENGTH} characters")
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
        ):
            try:
                RateLimit.parse(spec)
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
        if self.max_content_length <= 0:
            problems.append("MAX_CONTENT_LENGTH must be positive")
        # --- retention of ended sessions (issue 15)
        if self.session_retention < 0:
            problems.append("SESSION_RETENTION must be 0 or more seconds")
        if problems:
            raise SettingsError("invalid configuration: " + "; ".join(problems))
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the contract's variable names (section 5), validate, and return the settings."""
        env = os.environ if environ is None else environ
        reader = _Reader(env)
        raw_env = (env.get("APP_ENV") or env.get("FLASK_ENV") or "dev").strip().lower()
        if raw_env not in _ENV_ALIASES:
            raise SettingsError(
                f"invalid configuration: APP_ENV={raw_env!r} is not dev, test or prod"
            )
        app_env = _ENV_ALIASES[raw_env]
        prod = app_env == "prod"
        settings = cls(
            app_env=app_env,
            database_url=reader.text("DATABASE_URL", DEFAULT_DATABASE_URL),
            secret_key=reader.text("SECRET_KEY", "" if prod else DEV_SECRET),
            jwt_secret=reader.text("JWT_SECRET", "" if prod else DEV_SECRET),
            jwt_alg=reader.text("JWT_ALG", "HS256").upper(),
            access_token_expires=reader.integer("ACCESS_TOKEN_EXPIRES", 600),
            refresh_token_expires=reader.integer("REFRESH_TOKEN_EXPIRES", 2_592_000),
            cors_origins=reader.items("CORS_ORIGINS", () if prod else ("*",)),
            log_json=reader.flag("LOG_JSON", prod),
            redis_url=reader.text("REDIS_URL", "") or None,
            max_content_length=reader.size("MAX_CONTENT_LENGTH", 2 * 1024 * 1024),
            password_min_length=reader.integer("PASSWORD_MIN_LENGTH", 8),
            password_hash_profile=reader.choice(
                "PASSWORD_HASH_PROFILE", "owasp", ("owasp", "fast")
            ),  # type: ignore[arg-type]
            token_fingerprint=reader.choice("TOKEN_FINGERPRINT", "ip+ua", ("ip+ua", "ua", "off")),  # type: ignore[arg-type]
            trusted_proxies=reader.items("TRUSTED_PROXIES", ()),
            login_rate_limit_account=reader.text("LOGIN_RATE_LIMIT_ACCOUNT", "10/minute"),
            login_rate_limit_ip=reader.text("LOGIN_RATE_LIMIT_IP", "100/minute"),
            register_rate_limit_ip=reader.text("REGISTER_RATE_LIMIT_IP", "20/minute"),
            refresh_rate_limit_ip=reader.text("REFRESH_RATE_LIMIT_IP", "60/minute"),
            db_timeout=reader.number("DB_TIMEOUT", 5.0),
            db_pool_size=reader.integer("DB_POOL_SIZE", 10),
            db_pool_timeout=reader.number("DB_POOL_TIMEOUT", 5.0),
            redis_timeout=reader.number("REDIS_TIMEOUT", 0.3),
            cache_ttl=reader.integer("CACHE_TTL", 300),
            graphiql=reader.flag("GRAPHIQL", not prod),
            graphql_introspection=reader.flag("GRAPHQL_INTROSPECTION", not prod),
            graphql_max_depth=reader.integer("GRAPHQL_MAX_DEPTH", 10),
            graphql_max_aliases=reader.integer("GRAPHQL_MAX_ALIASES", 15),
            graphql_max_tokens=reader.integer("GRAPHQL_MAX_TOKENS", 2000),
            graphql_max_directives=reader.integer("GRAPHQL_MAX_DIRECTIVES", 20),
            graphql_max_root_fields=reader.integer("GRAPHQL_MAX_ROOT_FIELDS", 10),
            graphql_max_cost=reader.integer("GRAPHQL_MAX_COST", 5000),
            graphql_timeout=reader.number("GRAPHQL_TIMEOUT", 10.0),
            graphql_batch_limit=reader.integer("GRAPHQL_BATCH_LIMIT", 0),
            metrics_token=reader.text("METRICS_TOKEN", "") or None,
            shutdown_drain_seconds=reader.number("SHUTDOWN_DRAIN_SECONDS", 5.0),
            rq_queue=reader.text("RQ_QUEUE", "exports"),
            export_dir=reader.text("EXPORT_DIR", "var/exports"),
            export_retention=reader.integer("EXPORT_RETENTION", 86_400),
            export_max_attempts=reader.integer("EXPORT_MAX_ATTEMPTS", 3),
            export_lease=reader.integer("EXPORT_LEASE", 120),
            export_sweep_interval=reader.number("EXPORT_SWEEP_INTERVAL", 15.0),
            bootstrap_admin_email=reader.text("BOOTSTRAP_ADMIN_EMAIL", "") or None,
            bootstrap_admin_password=reader.text("BOOTSTRAP_ADMIN_PASSWORD", "") or None,
            # --- Sign-in budgets
            login_rate_limit_account_total=reader.text(
                "LOGIN_RATE_LIMIT_ACCOUNT_TOTAL", "100/minute"
            ),
            # --- retention of ended sessions (issue 15)
            session_retention=reader.integer("SESSION_RETENTION", 604_800),
        )
        reader.raise_if_invalid()
        return settings.validate()


class _Reader:
    """Typed access to environment variables that collects every malformed value."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self._problems: list[str] = []

    def text(self, name: str, default: str) -> str:
        value = self._env.get(name)
        return default if value is None else value.strip()

    def integer(self, name: str, default: int) -> int:
        raw = self._env.get(name)
        if raw is None or raw.strip() == "":
            return default
        try:
            return int(raw)
        except ValueError:
            self._problems.append(f"{name}={raw!r} is not an integer")
            return default

    def number(self, name: str, default: float) -> float:
        raw = self._env.get(name)
        if raw is None or raw.strip() == "":
            return default
        try:
            return float(raw)
        except ValueError:
            self._problems.append(f"{name}={raw!r} is not a number")
            return default

    def flag(self, name: str, default: bool) -> bool:
        raw = self._env.get(name)
        if raw is None or raw.strip() == "":
            return default
        value = raw.strip().lower()
        if value in {"1", "true", "yes", "on"}:
            return True
        if value in {"0", "false", "no", "off"}:
            return False
        self._problems.append(f"{name}={raw!r} is not a boolean")
        return default

    def items(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        raw = self._env.get(name)
        if raw is None or raw.strip() == "":
            return default
        return tuple(part.strip() for part in raw.split(",") if part.strip())

    def size(self, name: str, default: int) -> int:
        """Bytes, accepting the legacy forms `2MB`, `512KB` and plain numbers."""
        raw = self._env.get(name)
        if raw is None or raw.strip() == "":
            return default
        text = raw.strip().upper().removesuffix("B")
        factor = {"K": 1024, "M": 1024**2, "G": 1024**3}.get(text[-1:], 1)
        number = text[:-1] if factor > 1 else text
        try:
            return int(float(number) * factor)
        except ValueError:
            self._problems.append(f"{name}={raw!r} is not a size such as 2MB")
            return default

    def choice(self, name: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.text(name, default).lower()
        if value not in allowed:
            self._problems.append(f"{name}={value!r} is not one of {', '.join(allowed)}")
            return default
        return value

    def raise_if_invalid(self) -> None:
        if self._problems:
            raise SettingsError("invalid configuration: " + "; ".join(self._problems))
