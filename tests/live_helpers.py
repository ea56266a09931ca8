"""A real server for live subscriptions: uvicorn on loopback, with a handle on its event loop, its
services and its tasks, and clients for graphql-transport-ws and GraphQL over SSE."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from core.settings import Settings
from persistence import exports as jobs_repo
from persistence.models import ExportJob
from persistence.users import UserQuery
from server.app import create_app
from tests.conftest import PASSWORD, free_port, seed_accounts, serving

UA = "live-test-client"
FOLLOW = "subscription($id: ID!) { exportJob(id: $id) { id status rowsDone rowCount downloadUrl } }"
WS_PROTOCOL = "graphql-transport-ws"


@dataclasses.dataclass
class LiveServer:
    url: str
    app: Starlette
    loop: asyncio.AbstractEventLoop

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/graphql"

    @property
    def services(self) -> Any:
        return self.app.state.services

    async def on_server(self, work: Coroutine[Any, Any, Any]) -> Any:
        """Run `work` on the server's event loop (where its services live)."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self.loop))

    async def task_count(self) -> int:
        async def count() -> int:
            return len(asyncio.all_tasks()) - 1  # less this one

        return int(await self.on_server(count()))

    async def token(self, email: str = "admin@example.com") -> str:
        async with httpx.AsyncClient(base_url=self.url, headers={"User-Agent": UA}) as http:
            response = await http.post(
                "/graphql",
                json={
                    "query": "mutation($e: String!, $p: String!) "
                    "{ login(email: $e, password: $p) { accessToken } }",
                    "variables": {"e": email, "p": PASSWORD},
                },
            )
        return str(response.json()["data"]["login"]["accessToken"])

    async def queued_job(self) -> str:
        """An export job accepted but not handed to any worker yet (the test starts it)."""

        async def insert() -> str:
            job = ExportJob(
                id=uuid.uuid4().hex,
                status="queued",
                attempts=0,
                created_at=self.services.clock.now(),
                filter_json=json.dumps(dataclasses.asdict(UserQuery(sort_by="id"))),
            )
            async with self.services.db.transaction() as session:
                await jobs_repo.insert(session, job)
            return job.id

        return str(await self.on_server(insert()))


@contextmanager
def live_server(settings: Settings) -> Iterator[LiveServer]:
    seed_accounts(settings)
    app = create_app(settings)
    loops: list[asyncio.AbstractEventLoop] = []

    async def recording_loop(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" and not loops:
            loops.append(asyncio.get_running_loop())
        await app(scope, receive, send)

    config = uvicorn.Config(
        recording_loop, host="127.0.0.1", port=free_port(), log_level="warning", lifespan="on"
    )
    with serving(config) as url:
        yield LiveServer(url, app, loops[0])


@asynccontextmanager
async def ws_connection(
    server: LiveServer, payload: dict[str, Any] | None = None, **options: Any
) -> AsyncIterator[ClientConnection]:
    """A graphql-transport-ws connection, initialised with `payload` (and acknowledged)."""
    async with connect(
        server.ws_url,
        subprotocols=[Subprotocol(WS_PROTOCOL)],
        user_agent_header=UA,
        **options,
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
        yield ws


async def next_message(ws: ClientConnection, seconds: float = 15) -> dict[str, Any]:
    """The next protocol message, answering pings on the way."""
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), seconds))
        if message["type"] != "ping":
            return message
        await ws.send(json.dumps({"type": "pong"}))


async def subscribe(ws: ClientConnection, job_id: str, op_id: str = "1") -> None:
    await ws.send(
        json.dumps(
            {
                "id": op_id,
                "type": "subscribe",
                "payload": {"query": FOLLOW, "variables": {"id": job_id}},
            }
        )
    )


async def sse_events(
    response: httpx.Response,
) -> AsyncIterator[tuple[str, dict[str, Any] | None]]:
    """`(event, data)` pairs of a GraphQL-over-SSE stream (comments, the pings, skipped)."""
    event, data = "", ""
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data = line[5:].strip()
        elif line == "" and event:
            yield event, json.loads(data) if data else None
            event, data = "", ""
