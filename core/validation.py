"""Input rules shared by every transport: email, name and password policy."""

from __future__ import annotations

import re
import unicodedata

from core.errors import Problems
from core.passwords import PasswordHasher

NAME_MAX = 100
EMAIL_MAX = 254
# Deliberately plain: one @, a dot in the domain, no spaces or control characters.
_EMAIL = re.compile(r"^[^@\s\x00-\x1f]{1,64}@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f.]{2,}$")
# Characters nobody sees: controls (Cc), format characters (Cf: zero-width, soft hyphen, BOM and
# every bidi control), surrogates, line and paragraph separators. In an email they make a
# look-alike of another address; in a name they hide or reorder text.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def normalise_email(email: str) -> str:
    """The one form an email is stored, compared and counted in: trimmed, NFKC, case-folded.

    Case folding can leave text that is not NFKC (and NFKC text that folds further), so NFKC
    runs again after it: the result is a fixed point, normalising it again changes nothing.
    Invisible characters are kept, so that validation can refuse them rather than hide them."""
    folded = unicodedata.normalize("NFKC", email.strip()).casefold()
    return unicodedata.normalize("NFKC", folded).strip()


def has_invisible(text: str) -> bool:
    return any(unicodedata.category(ch) in _INVISIBLE for ch in text)


def check_email(problems: Problems, email: str) -> None:
    """`email` as `normalise_email` gave it."""
    if has_invisible(email):
        problems.add("email", "Must not contain invisible, control or bidi characters")
    elif not _EMAIL.match(email) or len(email) > EMAIL_MAX or ".." in email:
        problems.add("email", "Not a valid email address")


def check_name(problems: Problems, name: str) -> None:
    stripped = name.strip()
    if not stripped:
        problems.add("name", "Must not be blank")
    elif len(stripped) > NAME_MAX:
        problems.add("name", f"Must be at most {NAME_MAX} characters long")
    elif has_invisible(stripped):
        problems.add("name", "Must not contain invisible, control or bidi characters")


def check_password(problems: Problems, hasher: PasswordHasher, password: str) -> None:
    for message in hasher.policy_problems(password):
        problems.add("password", message)


def choice_message(choices: tuple[str, ...]) -> str:
    """The message of a value that is not one of `choices`."""
    return f"Must be one of {', '.join(choices)}"
