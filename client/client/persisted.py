"""Automatic persisted queries (Apollo's protocol), for a client made with
`persisted_queries=True`: a document goes first as its SHA-256 alone; when the server answers
PERSISTED_QUERY_NOT_FOUND it goes again in full with its hash, and the server keeps it for the
next time. A server with them off (PERSISTED_QUERY_NOT_SUPPORTED) gets plain documents from then on.
"""

from __future__ import annotations

import hashlib
from typing import Any

from gql import GraphQLRequest


class PersistedRequest(GraphQLRequest):
    """A request that names its document by hash (and, unless `hash_only`, sends it too)."""

    def __init__(
        self, request: GraphQLRequest, *, variable_values: dict[str, Any], hash_only: bool
    ) -> None:
        super().__init__(request, variable_values=variable_values)
        self.hash_only = hash_only

    @property
    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = super().payload
        text: str = payload["query"]  # as gql prints it: the text the server hashes
        digest = hashlib.sha256(text.encode()).hexdigest()
        persisted = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
        payload["extensions"] = {**(payload.get("extensions") or {}), **persisted}
        if self.hash_only:
            del payload["query"]
        return payload
