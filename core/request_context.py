"""The request being served, for whatever runs on its behalf (log lines, queued jobs).

A context variable, so every task and thread the request starts (asyncio copies the context into
them) sees its own request and never another's."""

from __future__ import annotations

from contextvars import ContextVar

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
