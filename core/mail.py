"""The mails the service sends: plain-text and HTML bodies built from one template each."""

from __future__ import annotations

import html
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    text: str
    link: str | None = None  # logged by the outbox sender, so a newcomer can follow it


_TEMPLATES: dict[str, tuple[str, str]] = {
    "password_reset": (
        "Reset your password",
        "Someone asked to reset the password of this account.\n"
        "Follow this link within 30 minutes to choose a new one:\n\n{link}\n\n"
        "If it was not you, ignore this mail: your password stays as it is.",
    ),
    "verify_email": (
        "Confirm your e-mail address",
        "Confirm that this address is yours by following this link within 24 hours:\n\n"
        "{link}\n\nIf you did not ask for it, ignore this mail.",
    ),
    "email_changed": (
        "Your e-mail address was changed",
        "The e-mail address of your account was changed to {new_email}.\n"
        "If it was not you, contact an administrator at once.",
    ),
}


def compose(kind: str, to: str, *, link: str | None = None, new_email: str = "") -> Mail:
    subject, body = _TEMPLATES[kind]
    return Mail(to, subject, body.format(link=link or "", new_email=new_email), link)


def to_message(mail: Mail, sender: str) -> EmailMessage:
    """The MIME message: text/plain with a text/html alternative."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, mail.to, mail.subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(mail.text)
    paragraphs = html.escape(mail.text).split("\n\n")
    if mail.link:
        escaped = html.escape(mail.link)
        paragraphs = [
            f'<a href="{escaped}">{escaped}</a>' if p == escaped else p for p in paragraphs
        ]
    body = "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in paragraphs)
    message.add_alternative(f"<!doctype html><html><body>{body}</body></html>", subtype="html")
    return message
