"""One reading of a `Content-Type` header, for every route that takes a JSON body.

A media type is `type/subtype` then `; name=value` parameters (RFC 9110, 8.3.1): it is JSON when
the type and subtype are exactly `application/json` (case-insensitive), whatever its parameters.
A substring test let `text/plain; x=application/json` through: a body a cross-site form or a
`no-cors` fetch can send, which is what accepting only JSON keeps out (the CSRF defence).
"""

from __future__ import annotations

import re

JSON = "application/json"
# RFC 9110 `token`: the characters a type, subtype or parameter name is made of.
_NAME = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PARAMETER = rf'{_NAME}=(?:{_NAME}|"(?:[^"\\]|\\.)*")'
_MEDIA_TYPE = re.compile(rf"[ \t]*({_NAME})/({_NAME})(?:[ \t]*;[ \t]*(?:{_PARAMETER})?)*[ \t]*")


def media_type(header: str) -> str | None:
    """The lower-cased `type/subtype` of a Content-Type value; None when it is malformed."""
    match = _MEDIA_TYPE.fullmatch(header)
    return None if match is None else f"{match[1]}/{match[2]}".lower()


def is_json(header: str | bytes | None) -> bool:
    """True when a Content-Type value names `application/json` (parameters allowed)."""
    if header is None:
        return False
    text = header.decode("latin-1") if isinstance(header, bytes) else header
    return media_type(text) == JSON
