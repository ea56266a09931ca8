"""Following an export live: `subscription exportJob` over graphql-transport-ws and over SSE,
on both backends (the in-process runner and in-process notices; an rq worker and Redis pub/sub),
its refusals, its limits, and a dropped connection that leaves nothing behind."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import redis
from websockets.exceptions import ConnectionClosed, InvalidStatus

from core.settings import Settings
from persistence.export_progress import CHANNEL, InProcessFeed
from resolvers.accounts import create_account
from resolvers.exports import run_export
from tests.conftest import PASSWORD
from tests.jobs_helpers import rq_worker
from tests.live_helpers import (
    FOLLOW,
    UA,
    LiveServer,
    live_server,
    next_message,
    sse_events,
    subscribe,
    ws_connection,
)

ROWS = 5  # the seeded admin and user, and three more: batches of 2, 2 and 1


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(
        settings,
        export_batch_size=2,
        export_progress_interval=0,
        cors_origins=("https://app.example",),
        live_connections_per_user=2,
        live_subscriptions_per_user=2,
    )


@pytest.fixture
def server(settings: Settings) -> Iterator[LiveServer]:
    with live_server(settings) as running:
        yield running


async def more_users(server: LiveServer) -> None:
    async def create() -> None:
        for n in range(ROWS - 2):
            await create_account(
                server.services,
                name=f"u{n}",
                email=f"u{n}@example.com",
                password=PASSWORD,
                role="user",
            )

    await server.on_server(create())


@asynccontextmanager
async def running(
    server: LiveServer, settings: Settings, backend: str, job_id: str
) -> AsyncIterator[None]:
    """The job runs while the block does: an rq worker (notices through Redis) on MySQL, the
    server's own runner (notices in process) on the embedded backend."""
    if backend == "embedded":
        task = asyncio.ensure_future(server.on_server(run_export(server.services, job_id)))
        yield
        assert await task == "finished"
        return
    assert await server.on_server(server.services.queue.enqueue(job_id))
    worker = rq_worker(
        settings, extra_env={"EXPORT_BATCH_SIZE": "2", "EXPORT_PROGRESS_INTERVAL": "0"}
    )
    try:
        yield
    finally:
        out, _ = await asyncio.to_thread(worker.communicate, timeout=60)
        assert worker.returncode == 0, out.decode()


def check_progress(jobs: list[dict[str, Any]]) -> None:
    """The job as it was, then each status change and the rows as they were written."""
    statuses = [job["status"] for job in jobs]
    assert statuses[0] == "QUEUED" and statuses[-1] == "FINISHED", statuses
    assert "STARTED" in statuses
    done = [job["rowsDone"] for job in jobs]
    assert done == sorted(done), done
    assert any(0 < job["rowsDone"] < ROWS for job in jobs if job["status"] == "STARTED"), jobs
    last = jobs[-1]
    assert last["rowCount"] == last["rowsDone"] == ROWS
    assert last["downloadUrl"] == f"/admin/jobs/{last['id']}/download"


def subscribers(server: LiveServer, settings: Settings, job_id: str) -> int:
    feed = server.services.progress
    if isinstance(feed, InProcessFeed):
        return len(feed.listeners.get(job_id, ()))
    client = redis.Redis.from_url(str(settings.redis_url))
    try:
        return int(dict(client.pubsub_numsub(CHANNEL + job_id))[(CHANNEL + job_id).encode()])
    finally:
        client.close()


async def eventually(check: Callable[[], Any], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "still not released"
        await asyncio.sleep(0.05)


async def test_an_admin_follows_an_export_over_websocket_until_it_finishes(
    server: LiveServer, settings: Settings, backend: str
) -> None:
    await more_users(server)
    token, job_id = await server.token(), await server.queued_job()
    jobs: list[dict[str, Any]] = []
    async with ws_connection(server, {"Authorization": f"Bearer {token}"}) as ws:
        assert (await next_message(ws))["type"] == "connection_ack"
        await subscribe(ws, job_id)
        first = await next_message(ws)
        jobs.append(first["payload"]["data"]["exportJob"])
        async with running(server, settings, backend, job_id):
            while (message := await next_message(ws, 60))["type"] == "next":
                assert "errors" not in message["payload"], message
                jobs.append(message["payload"]["data"]["exportJob"])
        assert message == {"id": "1", "type": "complete"}
    check_progress(jobs)
    # Polling clients read the same count.
    async with httpx.AsyncClient(base_url=server.url, headers={"User-Agent": UA}) as http:
        answer = await http.post(
            "/graphql",
            json={
                "query": "query($id: ID!) { exportJob(id: $id) { rowsDone rowCount } }",
                "variables": {"id": job_id},
            },
            headers={"Authorization": f"Bearer {token}"},
        )
    assert answer.json()["data"]["exportJob"] == {"rowsDone": ROWS, "rowCount": ROWS}
    assert server.services.live.total() == 0
    assert subscribers(server, settings, job_id) == 0


async def test_an_admin_follows_an_export_over_sse_signed_in_by_header(
    server: LiveServer, settings: Settings, backend: str
) -> None:
    await more_users(server)
    token, job_id = await server.token(), await server.queued_job()
    headers = {"User-Agent": UA, "Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    jobs: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60) as http:
        body = {"query": FOLLOW, "variables": {"id": job_id}}
        async with http.stream("POST", "/graphql", json=body) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = sse_events(response)
            event, data = await anext(events)
            assert event == "next" and data is not None
            jobs.append(data["data"]["exportJob"])
            async with running(server, settings, backend, job_id):
                async for event, data in events:
                    if event == "complete":
                        break
                    assert event == "next" and data is not None and "errors" not in data, data
                    jobs.append(data["data"]["exportJob"])
            assert event == "complete"
    check_progress(jobs)


async def ws_error(server: LiveServer, payload: dict[str, Any], job_id: str) -> list[str]:
    """The codes of a subscription refused on an acknowledged connection."""
    async with ws_connection(server, payload) as ws:
        assert (await next_message(ws))["type"] == "connection_ack"
        await subscribe(ws, job_id)
        return codes_of(await next_message(ws))


def codes_of(message: dict[str, Any]) -> list[str]:
    """The codes of an `error` message, or of the errors of a `next` one."""
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    return [error["extensions"]["code"] for error in errors]


async def test_who_may_follow_an_export_and_from_where(server: LiveServer) -> None:
    admin, user, job_id = (
        await server.token(),
        await server.token("user@example.com"),
        await server.queued_job(),
    )
    # No token, a bad one: the connection is closed at connection_init (4403).
    for payload in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": user + "x"}):
        async with ws_connection(server, payload) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await next_message(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    # Signed in, but not an admin; an admin asking for a job that does not exist.
    assert await ws_error(server, {"Authorization": f"Bearer {user}"}, job_id) == ["FORBIDDEN"]
    assert await ws_error(server, {"Authorization": f"Bearer {admin}"}, "nope") == ["NOT_FOUND"]
    # The token may come in the handshake's header instead.
    async with ws_connection(
        server, {}, additional_headers={"Authorization": f"Bearer {admin}"}
    ) as ws:
        assert (await next_message(ws))["type"] == "connection_ack"
    # Pages of other origins than CORS_ORIGINS cannot open a connection (403 at the handshake).
    with pytest.raises(InvalidStatus) as refused:
        async with ws_connection(server, {}, origin="https://evil.example"):
            pass
    assert refused.value.response.status_code == 403
    async with ws_connection(
        server, {"Authorization": f"Bearer {admin}"}, origin="https://app.example"
    ) as ws:
        assert (await next_message(ws))["type"] == "connection_ack"
    # Over SSE: no token, a user's token.
    async with httpx.AsyncClient(
        base_url=server.url, headers={"User-Agent": UA, "Accept": "text/event-stream"}
    ) as http:
        for headers, code in (
            ({}, "MISSING_AUTH_HEADER"),
            ({"Authorization": f"Bearer {user}"}, "FORBIDDEN"),
        ):
            body = {"query": FOLLOW, "variables": {"id": job_id}}
            async with http.stream("POST", "/graphql", json=body, headers=headers) as response:
                events = [item async for item in sse_events(response)]
            assert events[0][1] is not None, events
            assert [e["extensions"]["code"] for e in events[0][1]["errors"]] == [code]
            assert events[-1][0] == "complete"


async def test_connections_and_subscriptions_are_limited_per_user(server: LiveServer) -> None:
    token, job_id = await server.token(), await server.queued_job()
    signed_in = {"Authorization": f"Bearer {token}"}
    async with (
        ws_connection(server, signed_in) as first,
        ws_connection(server, signed_in) as second,
    ):
        assert (await next_message(first))["type"] == "connection_ack"
        assert (await next_message(second))["type"] == "connection_ack"
        async with ws_connection(server, signed_in) as third:  # LIVE_CONNECTIONS_PER_USER=2
            with pytest.raises(ConnectionClosed) as closed:
                await next_message(third)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
        await subscribe(first, job_id, "a")
        await subscribe(second, job_id, "b")
        assert (await next_message(first))["type"] == "next"
        assert (await next_message(second))["type"] == "next"
        await subscribe(second, job_id, "c")  # LIVE_SUBSCRIPTIONS_PER_USER=2, both connections
        refused = await next_message(second)
        assert refused["id"] == "c"
        assert [e["extensions"]["code"] for e in refused["payload"]["errors"]] == ["RATE_LIMITED"]
        assert await next_message(second) == {"id": "c", "type": "complete"}
        await first.send(json.dumps({"id": "a", "type": "complete"}))
        await eventually(lambda: _true(held(server, "subscription") == 1))
        await subscribe(second, job_id, "d")  # a slot given back is free again
        assert (await next_message(second))["payload"]["data"]["exportJob"]["status"] == "QUEUED"


async def _true(value: bool) -> bool:
    return value


def held(server: LiveServer, kind: str) -> int:
    return sum(count for (each, _), count in server.services.live.held.items() if each == kind)


async def test_a_dropped_connection_leaves_no_subscriber_slot_or_task(
    server: LiveServer, settings: Settings
) -> None:
    token, job_id = await server.token(), await server.queued_job()
    before = await server.task_count()

    async def released() -> bool:
        return (
            server.services.live.total() == 0
            and subscribers(server, settings, job_id) == 0
            and await server.task_count() == before
        )

    for _ in range(3):
        ws_cm = ws_connection(server, {"Authorization": f"Bearer {token}"})
        ws = await ws_cm.__aenter__()
        await next_message(ws)
        await subscribe(ws, job_id)
        assert (await next_message(ws))["type"] == "next"
        assert subscribers(server, settings, job_id) == 1
        ws.transport.abort()  # the client vanishes: no close frame, no `complete`
        await eventually(released)
    headers = {"User-Agent": UA, "Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers) as http:
        body = {"query": FOLLOW, "variables": {"id": job_id}}
        async with http.stream("POST", "/graphql", json=body) as response:
            event, _ = await anext(sse_events(response))
            assert event == "next"
            assert subscribers(server, settings, job_id) == 1
    await eventually(released)


async def test_each_subscription_checks_the_connections_token_again(server: LiveServer) -> None:
    """A session revoked after connection_init: the next subscription on that connection is
    refused with the token's own code."""
    token, job_id = await server.token(), await server.queued_job()
    async with ws_connection(server, {"Authorization": f"Bearer {token}"}) as ws:
        assert (await next_message(ws))["type"] == "connection_ack"
        async with httpx.AsyncClient(base_url=server.url, headers={"User-Agent": UA}) as http:
            out = await http.post("/auth/logout", headers={"Authorization": f"Bearer {token}"})
            assert out.status_code == 200
        await subscribe(ws, job_id)
        refused = await next_message(ws)
    assert codes_of(refused) == ["TOKEN_REVOKED"]


async def test_a_subscription_is_not_run_as_a_plain_post(
    client: httpx.AsyncClient, accounts: Any
) -> None:
    """Without `Accept: text/event-stream` a subscription takes neither the short path nor a
    stream: the full view refuses it, with a section 4 code."""
    admin = await accounts.admin_token()
    body = {"query": FOLLOW, "variables": {"id": "x"}}
    for accept in ("application/json", "application/graphql-response+json, application/json"):
        headers = {"Authorization": f"Bearer {admin}", "Accept": accept}
        answer = await client.post("/graphql", json=body, headers=headers)
        assert answer.status_code == 400, answer.text
        [error] = answer.json()["errors"]
        assert error["extensions"]["code"] == "VALIDATION_ERROR"
        assert "subscriptions are not allowed" in error["message"].lower(), error
