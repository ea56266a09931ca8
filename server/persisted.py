"""Which document a GraphQL request runs: Apollo's automatic persisted queries and the safelist.

A request whose `extensions.persistedQuery` is `{version: 1, sha256Hash}` names its document by
hash. Sent alone, the hash runs the document stored under it, or is answered
PERSISTED_QUERY_NOT_FOUND; the client then sends the hash and the document, which must match,
and the document is kept (Redis with a TTL, this process's memory without Redis). With
GRAPHQL_SAFELIST, only the manifest's documents run (QUERY_NOT_IN_SAFELIST), whether they come
by hash or in full; GRAPHQL_SAFELIST_ADMIN_BYPASS lets an admin run others.

The two persisted-query answers are HTTP 400, as the contract's code table says (section 6);
Apollo's link then retries with the document, and by default stops sending hashes: the README
shows its `disable` option that keeps them (only PERSISTED_QUERY_NOT_SUPPORTED turns them off).
A request with no extension and no safelist is
returned as it came, before any I/O: the short path keeps its speed.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import orjson

from core.errors import AppError, ErrorCode
from core.settings import Settings, SettingsError
from persistence.cache import Cache, MemoryCache, RedisCache
from resolvers.deps import Caller, Services

APQ_VERSION = 1
# The documents this process keeps without Redis, and the longest one kept anywhere: a stored
# document costs memory until its TTL, whoever sent it.
MEMORY_ENTRIES = 1_000
MAX_STORED_CHARS = 64 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")


def document_hash(document: str) -> str:
    """The id of a document in APQ and in the manifest: the hex SHA-256 of its UTF-8 text."""
    return hashlib.sha256(document.encode()).hexdigest()


def manifest_of(documents: list[str]) -> dict[str, str]:
    """`{sha256: document}` for documents, as `manage.py export-operations` writes it."""
    return {document_hash(text): text for text in documents}


def load_manifest(path: str) -> dict[str, str]:
    """The manifest at `path`, checked: every key is the hash of its document."""
    try:
        manifest = orjson.loads(Path(path).read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise SettingsError(f"GRAPHQL_SAFELIST={path!r} is not a readable JSON file") from exc
    if not isinstance(manifest, dict) or not all(
        isinstance(text, str) and key == document_hash(text) for key, text in manifest.items()
    ):
        raise SettingsError(f"GRAPHQL_SAFELIST={path!r}: not a {{sha256: document}} manifest")
    return manifest


class PersistedOperations:
    """APQ and the safelist of one server, as its settings say."""

    def __init__(self, settings: Settings) -> None:
        self.apq = settings.graphql_apq
        self.ttl = settings.graphql_apq_ttl
        path = settings.graphql_safelist
        self.safelist = load_manifest(path) if path else None
        self.admin_bypass = settings.graphql_safelist_admin_bypass
        self._store: Cache | None = None

    async def document(
        self, services: Services, caller: Caller, query: str | None, extensions: Any
    ) -> str | None:
        """The document to run for `query` and `extensions` (a dict or None); AppError when
        there is none to run."""
        if extensions is None and self.safelist is None:
            return query
        if extensions and "persistedQuery" in extensions:
            query = await self._by_hash(services, query, extensions["persistedQuery"], caller)
        elif query is not None:
            self._check_safelist(document_hash(query), caller)
        return query

    async def _by_hash(
        self, services: Services, query: str | None, ext: Any, caller: Caller
    ) -> str:
        if not self.apq and self.safelist is None:
            raise AppError(ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED)
        key = _hash_of(ext)
        if query is None:
            query = (self.safelist or {}).get(key) or await self._stored(services, key)
            if query is None:
                raise AppError(ErrorCode.PERSISTED_QUERY_NOT_FOUND)
            self._check_safelist(key, caller)
            return query
        if document_hash(query) != key:
            raise AppError(ErrorCode.VALIDATION_ERROR, "provided sha does not match query")
        self._check_safelist(key, caller)
        if self.apq and len(query) <= MAX_STORED_CHARS:
            await self.store(services).set(f"apq:{key}", query, self.ttl)
        return query

    async def _stored(self, services: Services, key: str) -> str | None:
        if not self.apq:
            return None
        found = await self.store(services).get(f"apq:{key}")
        return found if isinstance(found, str) else None

    def _check_safelist(self, key: str, caller: Caller) -> None:
        if self.safelist is None or key in self.safelist:
            return
        principal = caller.principal
        if self.admin_bypass and principal is not None and principal.is_admin:
            return
        raise AppError(ErrorCode.QUERY_NOT_IN_SAFELIST)

    def store(self, services: Services) -> Cache:
        """Where registered documents are kept: REDIS_URL's Redis, or this process's memory
        (a bounded LRU of its own, so a flood of documents evicts nothing else)."""
        if self._store is None:
            redis = services.redis
            self._store = RedisCache(redis) if redis is not None else MemoryCache(MEMORY_ENTRIES)
        return self._store


def _hash_of(extension: Any) -> str:
    """The hash of a well-formed `persistedQuery` extension; VALIDATION_ERROR otherwise."""
    if not isinstance(extension, dict) or extension.get("version") != APQ_VERSION:
        raise AppError(ErrorCode.VALIDATION_ERROR, "Unsupported persisted query version")
    key = extension.get("sha256Hash")
    if not isinstance(key, str) or not _SHA256.fullmatch(key):
        raise AppError(ErrorCode.VALIDATION_ERROR, "persistedQuery.sha256Hash must be hex SHA-256")
    return key
