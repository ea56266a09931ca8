"""Rate-limit policies: `10/minute`-style strings parsed into a count per period."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(second|minute|hour|day|s|m|h|d)s?\s*$")
_SHORT = {"s": "second", "m": "minute", "h": "hour", "d": "day"}


@dataclass(frozen=True, slots=True)
class RateLimit:
    count: int
    period: int  # seconds

    @classmethod
    def parse(cls, spec: str) -> RateLimit:
        """`10/minute`, `100/hour`, `5/30s` (five per thirty seconds)."""
        match = _SPEC.match(spec.lower())
        if match is None:
            raise ValueError(f"not a rate limit: {spec!r} (use e.g. 10/minute)")
        count, multiple, unit = match.groups()
        period = _UNITS[_SHORT.get(unit, unit)] * (int(multiple) if multiple else 1)
        if int(count) <= 0:
            raise ValueError(f"rate limit count must be positive: {spec!r}")
        return cls(int(count), period)


IPV6_CLIENT_PREFIX = 64  # one subscriber line or host gets a /64: it is one client


def client_key(ip: str) -> str:
    """The client a per-client limit counts: an IPv4 address, or the /64 of an IPv6 one (an
    IPv4-mapped IPv6 address is its IPv4 address). Anything unparsable counts as itself."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False))
    return str(address)
