"""A real SMTP server on loopback (aiosmtpd) and a way to wait for the service's mails."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from persistence import outgoing_mails
from resolvers.mail import MAX_ATTEMPTS, deliver

PORTS = range(18260, 18280)  # this worktree's range on the shared machine


def free_smtp_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            # as the SMTP server binds (asyncio's create_server): a port whose last connections
            # linger in TIME_WAIT is free; one another server listens on is not
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18260-18279")


@dataclass
class Inbox:
    """What the SMTP server received, parsed."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"


class SMTPServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    running = False

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.controller.stop()
            self.running = False


@pytest.fixture(name="smtp")
def smtp_server() -> Iterator[SMTPServer]:
    """A real SMTP server on this worktree's loopback ports, for one test."""
    server = SMTPServer(free_smtp_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def run_due_mail(services: Any) -> None:
    """Send every due mail now (the RQ queue has no worker in the tests; in process, the
    background sender may get there first: a mail is claimed by one sender only)."""
    async with services.db.transaction() as session:
        ids = await outgoing_mails.due(
            session,
            now=services.clock.now(),
            max_attempts=MAX_ATTEMPTS,
            requeue_after=timedelta(0),
            limit=100,
        )
    for mail_id in ids:
        await deliver(services, mail_id)


async def next_mail(services: Any, inbox: Inbox, timeout: float = 5.0) -> EmailMessage:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not inbox.messages:
        assert loop.time() < deadline, "no mail arrived"
        await run_due_mail(services)
        await asyncio.sleep(0.02)
    return inbox.messages.pop(0)


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part"
    content: str = part.get_content()
    return content


def token_in(message: EmailMessage) -> str:
    found = re.search(r"token=([A-Za-z0-9_-]+)", body(message, "plain"))
    assert found is not None, body(message, "plain")
    return found.group(1)
