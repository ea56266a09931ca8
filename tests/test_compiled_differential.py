"""The compiled executor and graphql-core give the same answers (STYLE.md 13): the same
requests go to two apps on one database, one with GRAPHQL_EXECUTOR=compiled and one with
`standard`, as an admin, a user and anonymous, and the response bodies must be byte for byte
equal. Documents come from hypothesis-graphql (every query the schema allows, bounded) and from
a hand-written corpus of the shapes where executors go wrong."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis_graphql import queries
from starlette.applications import Starlette

from core.settings import Settings
from schema.compiled import cache
from server.app import create_app
from tests.conftest import Accounts

SCHEMA = (Path(__file__).resolve().parent.parent / "schema.graphql").read_text()
GENERATED = 120  # documents per backend, each as three callers on both executors
# The generator's own mix favours `me`; each root query gets an equal share, `users` (the
# field whose items the plan shapes most) a double one, beside free mixes of root fields.
ROOT_QUERIES = (
    "users",
    "users",
    "me",
    "user",
    "exportJob",
    "health",
    "mySessions",
    "userSessions",
    "auditEvents",
)
USER_FIELDS = "id name email role isActive version etag createdAt updatedAt emailVerified"

CORPUS: dict[str, tuple[str, dict[str, Any]]] = {
    "bench page": (
        "query Users { users(page: 1, perPage: 100) { items { id name email role isActive "
        "createdAt createdBy { id name } } pageInfo { total } } }",
        {},
    ),
    "every user field, nested createdBy": (
        f"{{ users(perPage: 5) {{ items {{ {USER_FIELDS} lastLoginAt deletedAt "
        f"createdBy {{ {USER_FIELDS} createdBy {{ id createdBy {{ id }} }} }} }} }} }}",
        {},
    ),
    "aliases of one field with other arguments": (
        "{ a: users(perPage: 1) { items { id } } b: users(perPage: 2, sort: ASC) "
        "{ items { first: name second: name id } } }",
        {},
    ),
    "repeated fields merged": (
        "{ users { items { id name } items { id email createdBy { id } } "
        "items { createdBy { name } } } }",
        {},
    ),
    "fragments on the same field": (
        "fragment A on User { id name createdBy { id } } "
        "fragment B on User { id email createdBy { name } } "
        "{ users { items { ...A ...B ... on User { role } } } }",
        {},
    ),
    "include and skip with variables": (
        "query($with: Boolean!, $without: Boolean = false) { users { "
        "items { id name @include(if: $with) email @skip(if: $without) "
        "createdBy @include(if: $with) { id } } pageInfo @skip(if: $with) { total } } }",
        {"with": True},
    ),
    "include and skip, the other values": (
        "query($with: Boolean!, $without: Boolean = false) { users { "
        "items { id name @include(if: $with) email @skip(if: $without) "
        "createdBy @include(if: $with) { id } } pageInfo @skip(if: $with) { total } } }",
        {"with": False, "without": True},
    ),
    "typename everywhere": (
        "{ __typename users { __typename items { __typename t: __typename id } "
        "pageInfo { __typename } } me { __typename } }",
        {},
    ),
    "page info with resolvers": (
        "{ users(perPage: 2) { pageInfo { page perPage total pages hasNextPage "
        "hasPreviousPage endCursor } } }",
        {},
    ),
    "a cursor page": (
        '{ users(perPage: 2, after: "not-a-cursor") { items { id } pageInfo { page } } }',
        {},
    ),
    "one user, absent and present": (
        "query($id: ID!) { a: user(id: $id) { id name } b: user(id: 999999) { id } }",
        {"id": "1"},
    ),
    "me and the sessions": ("{ me { id role createdBy { id } } mySessions { id current } }", {}),
    "an admin-only field beside a public one": (
        "{ health { status } users { items { id } } }",
        {},
    ),
    "deleted users shown to admins": (
        "{ users(filter: {includeDeleted: true}) { items { id deletedAt } } }",
        {},
    ),
    "audit events with who and whom": (
        "{ auditEvents(first: 20) { items { id action at actor { id name createdBy { id } } "
        "subject { id email deletedAt } who: actor { role } } hasNextPage } }",
        {},
    ),
    "an unknown export job": ('{ exportJob(id: "nope") { id requestedBy { id } } }', {}),
    "a mutation's error": ('mutation { deleteUser(id: "999999") }', {}),
    "introspection": ('{ __schema { queryType { name } } __type(name: "User") { name } }', {}),
}


@dataclasses.dataclass
class Pair:
    compiled: httpx.AsyncClient
    standard: httpx.AsyncClient
    tokens: dict[str, str | None]
    sent: int = 0

    async def same_answer(self, query: str, variables: dict[str, Any] | None = None) -> None:
        for role, token in self.tokens.items():
            self.sent += 1
            headers = {"X-Request-ID": f"differential-{self.sent}"}
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
            body = {"query": query, "variables": variables or {}}
            fast = await self.compiled.post("/graphql", json=body, headers=headers)
            slow = await self.standard.post("/graphql", json=body, headers=headers)
            assert (fast.status_code, fast.content) == (slow.status_code, slow.content), (
                f"{role}: {query} {variables}\ncompiled: {fast.text}\nstandard: {slow.text}"
            )


@pytest.fixture
async def pair(app: Starlette, settings: Settings, accounts: Accounts) -> AsyncIterator[Pair]:
    made_by = await accounts.user("admin@example.com", name="Admin", role="admin")
    admin = str((await accounts.login("admin@example.com"))["accessToken"])
    user = await accounts.token_for("user@example.com")
    for n in range(3):
        await accounts.user(f"made{n}@example.com", name=f"Made {n}", created_by=made_by.id)
    standard = create_app(dataclasses.replace(settings, graphql_executor="standard"))
    assert settings.graphql_executor == "compiled"
    async with standard.router.lifespan_context(standard):
        clients = [
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=application, client=("203.0.113.7", 50000)),
                base_url="http://testserver",
                headers={"User-Agent": "pytest-client"},
            )
            for application in (app, standard)
        ]
        async with clients[0], clients[1]:
            yield Pair(clients[0], clients[1], {"admin": admin, "user": user, "anonymous": None})


@pytest.mark.parametrize("case", CORPUS, ids=list(CORPUS))
async def test_hand_written_documents_answer_alike(pair: Pair, case: str) -> None:
    query, variables = CORPUS[case]
    await pair.same_answer(query, variables)


def generated_documents(count: int) -> list[str]:
    """`count` queries hypothesis-graphql draws from schema.graphql, the same ones every run."""
    drawn: list[str] = []
    one_root = [queries(SCHEMA, fields=[name], allow_x00=False) for name in ROOT_QUERIES]

    @hypothesis_settings(
        max_examples=count,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.one_of(*one_root, queries(SCHEMA, allow_x00=False)), st.just(None))
    def draw(document: object, _: None) -> None:
        drawn.append(str(document))

    draw()
    return drawn


async def test_generated_documents_answer_alike(pair: Pair) -> None:
    documents = generated_documents(GENERATED)
    assert len(set(documents)) > GENERATED // 2  # hypothesis drew many distinct documents
    for document in documents:
        await pair.same_answer(document)
    assert pair.sent == 3 * len(documents)


async def test_an_export_job_answers_alike(pair: Pair) -> None:
    admin = {"Authorization": f"Bearer {pair.tokens['admin']}"}
    started = await pair.compiled.post(
        "/graphql", json={"query": "mutation { exportUsers { id } }"}, headers=admin
    )
    job = started.json()["data"]["exportUsers"]["id"]
    await pair.same_answer(
        "query($id: ID!) { exportJob(id: $id) { id createdAt requestedBy { id name "
        "createdBy { id } } again: requestedBy { email } } }",
        {"id": job},
    )


async def test_plans_are_cached_and_counted(pair: Pair) -> None:
    from core import metrics

    cache.clear()
    hits = metrics.GRAPHQL_PLANS.labels("hit")._value.get()
    for _ in range(3):
        await pair.same_answer("{ users { items { id name } } }")
    assert metrics.GRAPHQL_PLANS.labels("hit")._value.get() - hits >= 8  # 9 runs, 1 miss
    assert metrics.GRAPHQL_PLANS_CACHED._value.get() == 1
