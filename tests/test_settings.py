"""Settings from the environment: the contract's names, validation, production refusals."""

from __future__ import annotations

import pytest

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
