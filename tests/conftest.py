"""Shared fixtures: a real edgevoice server in the test's loop, on 127.0.0.1 only."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import uvicorn

from edgevoice.localport import free_port
from edgevoice.modelserver import Models, load_models
from edgevoice.modelserver import create_app as create_model_app
from edgevoice.node.models import ModelEndpoints
from edgevoice.node.node import Node
from edgevoice.processes.http import server_config
from edgevoice.sfu.network import PortRange, set_media_address
from edgevoice.sfu.peer import MediaConfig
from edgevoice.signalling.app import create_app
from edgevoice.signalling.nodeagent import NodeAgent
from edgevoice.signalling.settings import Settings
from edgevoice.signalling.store import SessionStore, open_store

if TYPE_CHECKING:
    from tests.peers import Caller

# Every peer in the test process (servers and clients) gathers on loopback only.
set_media_address("127.0.0.1")

API_KEY = "evk_test_key"


@dataclass
class Server:
    url: str
    node: Node
    settings: Settings
    http: httpx.AsyncClient
    node_store: SessionStore
    agent: NodeAgent

    async def create_session(self, **body: object) -> dict[str, object]:
        response = await self.http.post(
            "/v1/sessions", json={"model": "echo", **body}, headers=self.auth
        )
        assert response.status_code == 201, response.text
        data: dict[str, object] = response.json()
        return data

    async def service_tasks(self) -> None:
        """Wait for the node's pending store updates (connected, ended)."""
        await self.agent.drain()

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {API_KEY}"}

    async def whip(self, secret: str, offer: str) -> httpx.Response:
        return await self.http.post(
            "/v1/whip",
            content=offer,
            headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {secret}"},
        )

    async def connect(self, caller: Caller, **session: object) -> dict[str, Any]:
        """Create a session, WHIP ``caller`` into it, wait for the server's "connected"."""
        created = await self.create_session(**session)
        answer = await self.whip(created["client_secret"]["value"], await caller.offer())
        assert answer.status_code == 201, answer.text
        await caller.accept(answer.text)
        async with asyncio.timeout(10):
            await caller.next_event("state", state="connected")
        return created


@contextlib.asynccontextmanager
async def running_server(**overrides: object) -> AsyncIterator[Server]:
    port = free_port()
    values: dict[str, object] = {
        "host": "127.0.0.1", "port": port, "api_key": API_KEY, "model": "echo",
    }  # fmt: skip
    values.update(overrides)
    settings = Settings(**values)  # type: ignore[arg-type]
    node = Node(
        MediaConfig(ports=PortRange.parse(settings.rtc_ports) if settings.rtc_ports else None),
        models=ModelEndpoints(local_url=settings.local_model_url),
        max_sessions=settings.max_sessions,
        max_session_seconds=settings.max_session_seconds,
        connect_timeout=settings.connect_timeout,
    )
    store = open_store(settings.redis_url)
    app = create_app(settings, node, store)
    server = uvicorn.Server(server_config(app, "127.0.0.1", port))
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        try:
            yield Server(url, node, settings, http, store, app.state.agent)
        finally:
            server.should_exit = True
            async with asyncio.timeout(10):
                await task


@pytest.fixture(scope="session")
def models() -> Iterator[Models]:
    """The offline model server's models, loaded once for the whole test run."""
    loaded = load_models(print)
    yield loaded
    loaded.close()


@pytest.fixture
async def server_url(models: Models) -> AsyncIterator[str]:
    """A real offline model server on 127.0.0.1 (``host:port``)."""
    config = uvicorn.Config(
        create_model_app(models), host="127.0.0.1", port=0, log_level="warning", lifespan="on"
    )
    model_server = uvicorn.Server(config)
    # A socket that listens before the server runs: clients queue in its backlog.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    task = asyncio.create_task(model_server.serve(sockets=[sock]))
    yield f"127.0.0.1:{port}"
    model_server.should_exit = True
    async with asyncio.timeout(10):
        await task
    sock.close()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async with running_server() as s:
        yield s


@pytest.fixture
def make_server() -> Callable[..., contextlib.AbstractAsyncContextManager[Server]]:
    return running_server
