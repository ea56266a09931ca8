"""`bootstrap(settings)`: one composition of resources for every process, and BOOTSTRAP_ADMIN_*."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from core.settings import Settings
from persistence.models import User
from resolvers.accounts import create_account
from resolvers.bootstrap import bootstrap
from server.app import create_app
from tests.conftest import PASSWORD

ROOT_EMAIL = "Root@Example.com"


async def admins(settings: Settings) -> list[tuple[str, str]]:
    async with bootstrap(settings) as services, services.db.transaction() as session:
        rows = await session.execute(select(User.email, User.name).where(User.role == "admin"))
        return [(email, name) for email, name in rows]


async def start_together(settings: Settings, instances: int) -> None:
    """Several app instances on one database whose start-ups run at the same moment."""

    async def start_and_stop(app: Starlette) -> None:
        async with app.router.lifespan_context(app):
            pass

    async with asyncio.TaskGroup() as group:
        for _ in range(instances):
            group.create_task(start_and_stop(create_app(settings)))


async def test_bootstrap_admin_is_created_once_by_instances_starting_together(
    settings: Settings,
) -> None:
    configured = settings.with_(bootstrap_admin_email=ROOT_EMAIL, bootstrap_admin_password=PASSWORD)
    await start_together(configured, 4)
    assert await admins(settings) == [("root@example.com", "Admin")]
    await start_together(configured, 2)  # restarts find the admin: nothing more is written
    assert await admins(settings) == [("root@example.com", "Admin")]


async def test_bootstrap_admin_is_not_made_when_an_admin_exists(settings: Settings) -> None:
    async with bootstrap(settings) as services:
        await create_account(
            services, name="Ada", email="ada@example.com", password=PASSWORD, role="admin"
        )
    configured = settings.with_(bootstrap_admin_email=ROOT_EMAIL, bootstrap_admin_password=PASSWORD)
    await start_together(configured, 1)
    assert await admins(settings) == [("ada@example.com", "Ada")]


async def test_bootstrap_admin_never_promotes_an_existing_account(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Whoever registered the address chose its password: it must not become the admin."""
    async with bootstrap(settings) as services:
        await create_account(
            services, name="Eve", email="root@example.com", password=PASSWORD, role="user"
        )
    configured = settings.with_(
        bootstrap_admin_email=ROOT_EMAIL, bootstrap_admin_password="another long passphrase"
    )
    with caplog.at_level(logging.WARNING, logger="app.accounts"):
        await start_together(configured, 1)
    assert await admins(settings) == []
    assert "BOOTSTRAP_ADMIN_EMAIL is taken" in caplog.text
