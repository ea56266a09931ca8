"""The RQ job: send one queued mail by id, with resources opened for it and closed after."""

from __future__ import annotations

import asyncio

from core.settings import Settings
from resolvers.bootstrap import bootstrap
from resolvers.mail import deliver


def send_mail_job(mail_id: str) -> bool:
    """Entry point RQ calls (see persistence.queue.RQ_MAIL_FUNCTION); safe to run twice."""
    return asyncio.run(_run(Settings.from_env(), mail_id))


async def _run(settings: Settings, mail_id: str) -> bool:
    async with bootstrap(settings) as services:
        return await deliver(services, mail_id)
