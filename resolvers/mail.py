"""Mail as the use cases meet it: asked for inside a request's transaction, sent by a job.

A request only writes an `outgoing_mails` row (what to send, to whom: never a secret) and hands
its id to the queue after commit. The job claims the row, makes the e-mailed token if the mail
carries one, sends, and marks it sent; a mail server that is down puts the row back with a
backoff, and the sweep finds it again, so nothing asked for is lost and no request waits for SMTP.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core import email_tokens
from core.mail import Mail, compose
from persistence import account_tokens, outgoing_mails
from persistence import users as users_repo
from persistence.models import AccountToken, OutgoingMail, User
from resolvers.deps import Services

log = logging.getLogger("app.mail")
CLAIM_LEASE = timedelta(seconds=120)
# A queued mail no sender took within this is queued again (a lost queue entry, a dead worker).
REQUEUE_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 10
SWEEP_BATCH = 100


async def queue_mail(
    services: Services, session: AsyncSession, *, kind: str, address: str, user_id: int | None
) -> str:
    """Inside the caller's transaction: one row; `send_queued` after commit hands it over."""
    mail_id = email_tokens.new_token()[:32]
    row = OutgoingMail(
        id=mail_id,
        kind=kind,
        address=address,
        user_id=user_id,
        created_at=services.clock.now(),
        enqueued_at=services.clock.now(),
        attempts=0,
    )
    await outgoing_mails.add(session, row)
    return mail_id


async def send_queued(services: Services, mail_id: str) -> None:
    """After commit: hand the mail to the queue (when that fails, the sweep finds it)."""
    await services.mail_queue.enqueue(mail_id)


async def deliver(services: Services, mail_id: str) -> bool:
    """Send one queued mail; True when it is done (sent or nothing to send). Safe to run twice."""
    now = services.clock.now()
    async with services.db.transaction() as session:
        row = await outgoing_mails.claim(session, mail_id, now=now, lease=CLAIM_LEASE)
        if row is None:
            return False
        mail = await _compose(services, session, row)
        attempts = row.attempts
    if mail is None:
        async with services.db.transaction() as session:
            await outgoing_mails.finish(session, mail_id, now=now, error="no live account")
        return True
    try:
        await services.mail_sender.send(mail)
    except Exception as exc:  # the mail server is down or refused: try again later
        delay = timedelta(seconds=min(3600, 30 * 2**attempts))
        log.warning("mail %s not sent (%s); retry in %s", mail_id, type(exc).__name__, delay)
        async with services.db.transaction() as session:
            await outgoing_mails.retry_later(
                session, mail_id, at=services.clock.now() + delay, error=type(exc).__name__
            )
        return False
    async with services.db.transaction() as session:
        await outgoing_mails.finish(session, mail_id, now=services.clock.now())
    return True


async def sweep_mail(services: Services) -> int:
    """Queue again every unsent mail whose try is due; how many."""
    async with services.db.transaction() as session:
        ids = await outgoing_mails.due(
            session,
            now=services.clock.now(),
            max_attempts=MAX_ATTEMPTS,
            requeue_after=REQUEUE_AFTER,
            limit=SWEEP_BATCH,
        )
    for mail_id in ids:
        await services.mail_queue.enqueue(mail_id)
    return len(ids)


async def _compose(services: Services, session: AsyncSession, row: OutgoingMail) -> Mail | None:
    """The mail of a row, with a fresh token for the kinds that carry one; None when the account
    it is for is gone, deactivated or (a reset asked by address) never existed."""
    settings = services.settings
    user = await _live_user(session, row)
    if user is None:
        return None
    if row.kind == "password_reset":
        token = await _issue(services, session, user, "reset", user.email)
        return compose(
            row.kind, row.address, link=email_tokens.link(settings.password_reset_url, token)
        )
    if row.kind == "verify_email":
        token = await _issue(services, session, user, "verify", row.address)
        return compose(
            row.kind, row.address, link=email_tokens.link(settings.email_verify_url, token)
        )
    return compose(row.kind, row.address, new_email=user.email)


async def _live_user(session: AsyncSession, row: OutgoingMail) -> User | None:
    if row.user_id is not None:
        user = await users_repo.get(session, row.user_id)
    else:
        user = await users_repo.get_by_email(session, row.address)
    if user is None or user.deleted_at is not None or not user.is_active:
        return None
    return user


async def _issue(
    services: Services,
    session: AsyncSession,
    user: User,
    purpose: email_tokens.Purpose,
    email: str,
) -> str:
    token, now = email_tokens.new_token(), services.clock.now()
    row = AccountToken(
        token_hash=email_tokens.token_hash(token),
        purpose=purpose,
        user_id=user.id,
        email=email,
        created_at=now,
        expires_at=now + email_tokens.LIFETIME[purpose],
    )
    await account_tokens.issue(session, row)
    return token
