"""Logging for the server and the worker: JSON lines when LOG_JSON=true, and never a secret."""

from __future__ import annotations

import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

from core.request_context import REQUEST_ID
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


class RequestContextFilter(logging.Filter):
    """Puts the current request's id on every record logged while serving it (any logger), and,
    with tracing on, the trace and span ids, so a line leads to its trace and back."""

    def __init__(self, tracing: bool = False) -> None:
        super().__init__()
        self.tracing = tracing

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            request_id = REQUEST_ID.get()
            if request_id is not None:
                record.request_id = request_id
        if self.tracing:
            from opentelemetry import trace

            context = trace.get_current_span().get_span_context()
            if context.is_valid:
                record.trace_id = format(context.trace_id, "032x")
                record.span_id = format(context.span_id, "016x")
        return True


def log_handler(settings: Settings, stream: TextIO = sys.stderr) -> logging.Handler:
    """The one handler every log line goes through: formatted, redacted, with its request."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter() if settings.log_json else TextFormatter())
    handler.addFilter(RequestContextFilter(settings.tracing))
    return handler


def configure_logging(settings: Settings) -> None:
    """Route the app's, uvicorn's and rq's logs through one redacting handler."""
    handler = log_handler(settings)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "rq.worker"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # our access line replaces it
