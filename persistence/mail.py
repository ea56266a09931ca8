"""Where mail goes: an SMTP server (`SMTP_URL`), or an outbox folder without one. One interface.

`SMTP_URL` is `smtp://user:pass@host:port` (`?starttls=true` to upgrade the connection) or
`smtps://...` for implicit TLS. The outbox writes one `.eml` file per mail and logs its link at
info, so a newcomer can follow a reset link on the embedded default.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from core.mail import Mail, to_message
from core.settings import Settings

log = logging.getLogger("app.mail")
SMTP_TIMEOUT = 10.0


class MailSender(Protocol):
    async def send(self, mail: Mail) -> None:
        """Deliver `mail` or raise: the job retries later."""


class SMTPSender:
    def __init__(self, url: str, sender: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must be smtp://host:port or smtps://host:port")
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        query = parse_qs(parts.query)
        self.starttls = query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes")
        self.sender = sender

    async def send(self, mail: Mail) -> None:
        await asyncio.to_thread(self._send, to_message(mail, self.sender))

    def _send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP = (
            smtplib.SMTP_SSL(self.host, self.port, timeout=SMTP_TIMEOUT, context=context)
            if self.implicit_tls
            else smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT)
        )
        with smtp:
            if self.starttls:
                smtp.starttls(context=context)
            if self.user is not None:
                smtp.login(self.user, self.password or "")
            smtp.send_message(message)


class OutboxSender:
    def __init__(self, folder: str, sender: str) -> None:
        self.folder = Path(folder)
        self.sender = sender

    async def send(self, mail: Mail) -> None:
        message = to_message(mail, self.sender)
        name = str(message["Message-ID"]).strip("<>").replace("@", "_").replace("/", "_")
        path = self.folder / f"{name}.eml"
        await asyncio.to_thread(self._write, path, message.as_bytes())
        log.info("mail to %s written to %s; link: %s", mail.to, path, mail.link or "-")

    def _write(self, path: Path, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o600)


def open_sender(settings: Settings) -> MailSender:
    if settings.smtp_url:
        return SMTPSender(settings.smtp_url, settings.mail_from)
    return OutboxSender(settings.mail_outbox_dir, settings.mail_from)
