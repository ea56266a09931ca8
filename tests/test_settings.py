"""Settings from the environment: the contract's names, validation, production refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import tokens
from core.passwords import PasswordHasher
from core.settings import DEV_SECRET, Settings, SettingsError
from persistence.db import async_url

STRONG = "s" * 40


def test_defaults_run_on_the_embedded_database() -> None:
    settings = Settings.from_env({})
    assert settings.app_env == "dev"
    assert settings.database_url.startswith("sqlite:///")
    assert settings.redis_url is None
    assert (settings.access_token_expires, settings.refresh_token_expires) == (600, 2_592_000)
    assert settings.max_content_length == 2 * 1024 * 1024


@pytest.mark.parametrize(
    ("weak", "strong"), [("JWT_SECRET", "SECRET_KEY"), ("SECRET_KEY", "JWT_SECRET")]
)
@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        (None, "missing or a known default"),
        ("change-me", "missing or a known default"),
        (DEV_SECRET, "missing or a known default"),
        ("short", "shorter than 32 characters"),
    ],
)
def test_production_refuses_a_weak_secret_and_names_it(
    weak: str, strong: str, secret: str | None, reason: str
) -> None:
    env = {"APP_ENV": "prod", strong: STRONG}
    if secret is not None:
        env[weak] = secret
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(env)
    assert f"{weak} is {reason}" in str(refused.value)
    assert strong not in str(refused.value)


def test_flask_env_is_an_alias_and_app_env_wins() -> None:
    assert Settings.from_env(
        {"FLASK_ENV": "prod", "JWT_SECRET": STRONG, "SECRET_KEY": STRONG}
    ).is_prod
    assert Settings.from_env({"APP_ENV": "dev", "FLASK_ENV": "prod"}).app_env == "dev"


def test_production_defaults_are_strict() -> None:
    settings = Settings.from_env({"APP_ENV": "prod", "JWT_SECRET": STRONG, "SECRET_KEY": STRONG})
    assert not settings.graphiql
    assert not settings.graphql_introspection
    assert settings.cors_origins == ()
    assert settings.log_json


def test_sizes_and_bad_values() -> None:
    assert Settings.from_env({"MAX_CONTENT_LENGTH": "1MB"}).max_content_length == 1024 * 1024
    assert Settings.from_env({"MAX_CONTENT_LENGTH": "512KB"}).max_content_length == 512 * 1024
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(
            {
                "ACCESS_TOKEN_EXPIRES": "soon",
                "DB_POOL_SIZE": "many",
                "CACHE_TTL": "1.5",
                "LOG_JSON": "maybe",
            }
        )
    message = str(refused.value)  # every malformed value at once, not the first one only
    for name in ("ACCESS_TOKEN_EXPIRES", "DB_POOL_SIZE", "CACHE_TTL"):
        assert f"{name}=" in message and "is not an integer" in message, name
    assert "LOG_JSON" in message


def test_bad_rate_limit_is_named() -> None:
    with pytest.raises(SettingsError, match="LOGIN_RATE_LIMIT_IP"):
        Settings.from_env({"LOGIN_RATE_LIMIT_IP": "lots"})


def test_production_uses_the_owasp_argon2_profile() -> None:
    settings = Settings.from_env({"APP_ENV": "prod", "JWT_SECRET": STRONG, "SECRET_KEY": STRONG})
    parameters = PasswordHasher.for_profile(settings.password_hash_profile).parameters
    assert parameters["memory_cost"] >= 19 * 1024
    assert parameters["time_cost"] >= 2
    with pytest.raises(SettingsError, match="fast"):
        Settings.from_env(
            {
                "APP_ENV": "prod",
                "JWT_SECRET": STRONG,
                "SECRET_KEY": STRONG,
                "PASSWORD_HASH_PROFILE": "fast",
            }
        )


def test_legacy_database_urls_work_as_given() -> None:
    mysql = async_url("mysql+pymysql://user:pass@db:3306/app")
    assert mysql.drivername == "mysql+aiomysql"
    assert (mysql.username, mysql.password, mysql.host, mysql.port, mysql.database) == (
        "user",
        "pass",
        "db",
        3306,
        "app",
    )
    assert mysql.query["charset"] == "utf8mb4"
    assert async_url("sqlite:///var/app.db").drivername == "sqlite+aiosqlite"
    with pytest.raises(ValueError, match="unsupported"):
        async_url("postgresql://x/y")


def test_every_default_is_the_declared_one() -> None:
    """One declaration per setting: reading an empty environment gives the dataclass defaults."""
    assert Settings.from_env({}) == Settings()


@pytest.mark.parametrize(("alg", "key_bytes"), [("HS384", 48), ("HS512", 64)])
def test_longer_hashes_refuse_a_shorter_secret_at_start_up(alg: str, key_bytes: int) -> None:
    """PyJWT refuses an HMAC key shorter than the hash on decode: every token would fail."""
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"JWT_ALG": alg, "JWT_SECRET": "k" * (key_bytes - 1)})
    assert f"JWT_SECRET is shorter than {key_bytes} bytes, which JWT_ALG={alg} needs" in str(
        refused.value
    )
    settings = Settings.from_env({"JWT_ALG": alg.lower(), "JWT_SECRET": "k" * key_bytes})
    now = datetime.now(UTC)
    token = tokens.encode(
        settings,
        "access",
        user_id=1,
        session_id="s",
        jti="j",
        token_version=0,
        fingerprint="",
        issued_at=now,
        expires_at=now + timedelta(minutes=1),
    )
    assert tokens.decode(settings, token, "access", now=now).user_id == 1


def test_repr_shows_no_secret_and_no_database_password() -> None:
    settings = Settings.from_env(
        {
            "JWT_SECRET": "jwt-" + STRONG,
            "SECRET_KEY": "key-" + STRONG,
            "DATABASE_URL": "mysql+pymysql://app:db-pass-word@db:3306/app",
            "REDIS_URL": "redis://:redis-pass-word@cache:6379/0",
            "METRICS_TOKEN": "metrics-" + STRONG,
            "BOOTSTRAP_ADMIN_EMAIL": "root@example.com",
            "BOOTSTRAP_ADMIN_PASSWORD": "admin-pass-word",
        }
    )
    for shown in (repr(settings), str(settings), f"{settings}"):
        for secret in (STRONG, "db-pass-word", "redis-pass-word", "admin-pass-word"):
            assert secret not in shown
        assert "mysql+pymysql://app:***@db:3306/app" in shown
        assert "redis://:***@cache:6379/0" in shown
        assert "root@example.com" in shown and "cache_ttl=300" in shown


def test_several_workers_without_redis_share_no_cache() -> None:
    assert Settings().cache_enabled
    assert not Settings(workers=2).cache_enabled
    assert Settings(workers=2, redis_url="redis://127.0.0.1:6379/0").cache_enabled
    assert not Settings(cache_ttl=0).cache_enabled


def test_bootstrap_admin_needs_both_email_and_password() -> None:
    with pytest.raises(SettingsError, match="BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD"):
        Settings.from_env({"BOOTSTRAP_ADMIN_EMAIL": "root@example.com"})
