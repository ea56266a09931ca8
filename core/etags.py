"""ETags of users: how one is written and how `If-Match` / `If-None-Match` values are read, for
both transports (GraphQL's `ifMatch` argument and REST's headers)."""

from __future__ import annotations


def etag_of(resource_id: int, version: int) -> str:
    """The strong validator both transports send: it changes on every write."""
    return f'"{resource_id}-{version}"'


def listed_tags(header: str) -> tuple[str, ...] | None:
    """The tags a condition lists, unquoted and without the weak prefix (bare tags are
    accepted too); None for `*`, which matches any current representation."""
    if header.strip() == "*":
        return None
    return tuple(tag.strip().removeprefix("W/").strip('"') for tag in header.split(","))


def etag_listed(header: str | None, etag: str) -> bool:
    """`If-None-Match` comparison (weak): whether `header` names `etag` or is `*`."""
    if header is None:
        return False
    tags = listed_tags(header)
    return tags is None or etag.strip('"') in tags


STALE = -1  # a version no row has: a write conditioned on it fails with VERSION_CONFLICT


def version_named(header: str, resource_id: int) -> int | None:
    """The version an `If-Match` value allows for `resource_id`: None for `*` (any), the
    version its one tag names, STALE for a tag of another resource; ValueError when it is not
    one tag of this kind."""
    tags = listed_tags(header)
    if tags is None:
        return None
    if len(tags) != 1:
        raise ValueError("one etag expected")
    owner, _, version = tags[0].rpartition("-")
    if not version.isdigit() or not owner.isdigit():
        raise ValueError("not an etag")
    return int(version) if int(owner) == resource_id else STALE
