"""Input rules shared by every transport: email, name and password policy."""

from __future__ import annotations

import re

from core.errors import Problems
from core.passwords import PasswordHasher

NAME_MAX = 100
EMAIL_MAX = 254
# Deliberately plain: one @, a dot in the domain, no spaces or control characters.
_EMAIL = re.compile(r"^[^@\s\x00-\x1f]{1,64}@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f.]{2,}$")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_email(problems: Problems, email: str) -> None:
    if not _EMAIL.match(email) or len(email) > EMAIL_MAX or ".." in email:
        problems.add("email", "Not a valid email address")


def check_name(problems: Problems, name: str) -> None:
    stripped = name.strip()
    if not stripped:
        problems.add("name", "Must not be blank")
    elif len(stripped) > NAME_MAX:
        problems.add("name", f"Must be at most {NAME_MAX} characters long")
    elif any(ord(ch) < 32 for ch in stripped):
        problems.add("name", "Must not contain control characters")


def check_password(problems: Problems, hasher: PasswordHasher, password: str) -> None:
    for message in hasher.policy_problems(password):
        problems.add("password", message)
