"""Resolve the caller once per request: client address, User-Agent, and the Bearer token's principal."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from resolvers.authn import authenticate
from resolvers.deps import Caller, Services
from server.middleware.http_only import HTTPMiddleware
from server.middleware.request_id import request_id_of

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def client_ip(scope: Scope, trusted: tuple[IPNetwork, ...]) -> str:
    """The peer address, or the nearest untrusted hop of X-Forwarded-For behind trusted proxies."""
    peer = (scope.get("client") or ("unknown", 0))[0]
    if not trusted or not _is_trusted(peer, trusted):
        return str(peer)
    forwarded = b",".join(v for k, v in scope["headers"] if k == b"x-forwarded-for").decode(
        "latin-1"
    )
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop
    return hops[0] if hops else str(peer)


def _is_trusted(address: str, trusted: tuple[IPNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


class AuthenticationMiddleware(HTTPMiddleware):
    # A WebSocket handshake may carry the token in its header (or later, in connection_init).
    scope_types = frozenset({"http", "websocket"})

    def __init__(self, app: ASGIApp, trusted_proxies: Iterable[str]) -> None:
        super().__init__(app)
        self.trusted = parse_networks(trusted_proxies)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"])
        caller = Caller(
            request_id=request_id_of(scope),
            ip=client_ip(scope, self.trusted),
            user_agent=headers.get(b"user-agent", b"").decode("latin-1")[:512],
        )
        authorization = headers.get(b"authorization")
        if authorization is not None:
            services: Services = scope["app"].state.services
            await authenticate(services, caller, authorization.decode("latin-1"))
        scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)
