"""`DateTime` as strawberry serialises it (ISO 8601 with its offset), declaring the profile it
follows: `@specifiedBy(url: "https://datatracker.ietf.org/doc/html/rfc3339")`, so code
generators and clients know how to read it."""

from __future__ import annotations

from dataclasses import replace

from strawberry.schema.types.base_scalars import DateTimeDefinition

RFC3339 = "https://datatracker.ietf.org/doc/html/rfc3339"
DATETIME = replace(DateTimeDefinition, specified_by_url=RFC3339, implementation=None)
