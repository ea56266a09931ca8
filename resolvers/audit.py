"""Security events: one warning line each, with the request id, never a secret."""

from __future__ import annotations

import logging

from resolvers.deps import Caller

log = logging.getLogger("app.security")


def security_event(caller: Caller, event: str, **fields: str | int | None) -> None:
    """Log `event` (login_failed, refresh_reuse, rate_limited, forbidden) for this caller."""
    principal = caller.principal.user_id if caller.principal else None
    log.warning(
        "security event %s",
        event,
        extra={
            "event": event,
            "request_id": caller.request_id,
            "client_ip": caller.ip,
            "principal_id": principal,
            **fields,
        },
    )
