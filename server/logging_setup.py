"""Logging for the server and the worker: JSON lines when LOG_JSON=true, and never a secret."""

from __future__ import annotations

import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

from core.settings import Settings

# Attributes every LogRecord has; anything else came in through `extra=` and is emitted as data.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's ANSI copy of the message
}
_SECRET_KEYS = re.compile(r"pass(word)?|secret|token|authorization|cookie|hash", re.IGNORECASE)
# JWTs and Bearer credentials, wherever they appear in a message or a traceback.
_SECRET_TEXT = re.compile(
    r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*|(?i:bearer)\s+\S+|\$argon2[^\s'\"]*"
)


def redact(text: str) -> str:
    return _SECRET_TEXT.sub("[redacted]", text)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        key: "[redacted]" if _SECRET_KEYS.search(key) else value
        for key, value in vars(record).items()
        if key not in _STANDARD
    }


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
            **_extras(record),
        }
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        text = f"{record.levelname:<7} {record.name}: {record.getMessage()} {extras}".rstrip()
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return redact(text)


def configure_logging(settings: Settings) -> None:
    """Route the app's, uvicorn's and rq's logs through one redacting handler."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter() if settings.log_json else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "rq.worker"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # our access line replaces it
