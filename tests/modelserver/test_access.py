"""The offline model server's optional key and its Origin check, on a real server.

A node reaches a keyed server through the key in its ModelEndpoints (the realtime
client sends it as a Bearer token); a browser page on another site is refused.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from edgevoice.bridge.errors import BridgeError
from edgevoice.bridge.model import SessionSettings
from edgevoice.modelserver import Models
from edgevoice.modelserver import create_app as create_model_app
from edgevoice.node.models import ModelEndpoints, make_model

KEY = "lmk_test_key"
APP_ORIGIN = "https://app.example"


@pytest.fixture
async def keyed(models: Models) -> AsyncIterator[str]:
    """A keyed model server on 127.0.0.1 that allows one browser origin; ``host:port``."""
    app = create_model_app(models, api_key=KEY, origins=[APP_ORIGIN])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    yield f"127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    async with asyncio.timeout(10):
        await task
    sock.close()


async def first_event(url: str, headers: dict[str, str]) -> str:
    async with asyncio.timeout(10), connect(url, additional_headers=headers) as ws:
        return str(json.loads(await ws.recv())["type"])


async def refused_status(url: str, headers: dict[str, str]) -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with asyncio.timeout(10), connect(url, additional_headers=headers):
            pass
    return refused.value.response.status_code


async def test_websocket_needs_the_key(keyed: str) -> None:
    url = f"ws://{keyed}/v1/realtime"
    assert await refused_status(url, {}) == 403
    assert await refused_status(url, {"Authorization": "Bearer wrong"}) == 403
    assert await first_event(url, {"Authorization": f"Bearer {KEY}"}) == "session.created"


async def test_cross_site_origin_is_refused_even_with_the_key(keyed: str) -> None:
    url = f"ws://{keyed}/v1/realtime"
    auth = {"Authorization": f"Bearer {KEY}"}
    assert await refused_status(url, {**auth, "Origin": "https://evil.example"}) == 403
    assert await first_event(url, {**auth, "Origin": APP_ORIGIN}) == "session.created"


async def test_client_secrets_need_the_key_and_the_secret_opens_the_socket(keyed: str) -> None:
    async with httpx.AsyncClient(base_url=f"http://{keyed}", timeout=10) as http:
        assert (await http.post("/v1/realtime/client_secrets", json={})).status_code == 401
        evil = await http.post(
            "/v1/realtime/client_secrets",
            json={},
            headers={"Authorization": f"Bearer {KEY}", "Origin": "https://evil.example"},
        )
        assert evil.status_code == 403
        issued = await http.post(
            "/v1/realtime/client_secrets", json={}, headers={"Authorization": f"Bearer {KEY}"}
        )
        assert issued.status_code == 200
    secret = issued.json()["value"]
    url = f"ws://{keyed}/v1/realtime"
    assert await first_event(url, {"Authorization": f"Bearer {secret}"}) == "session.created"


async def test_a_node_reaches_a_keyed_server_with_its_configured_key(keyed: str) -> None:
    url = f"ws://{keyed}/v1/realtime"
    settings = SessionSettings(model="local")
    model = make_model(settings, ModelEndpoints(local_url=url, local_key=KEY), "sess_k")
    try:
        async with asyncio.timeout(20):
            await model.start()
    finally:
        await model.close()
    keyless = make_model(settings, ModelEndpoints(local_url=url, local_key=None), "sess_n")
    try:
        with pytest.raises(BridgeError, match="403"):
            async with asyncio.timeout(20):
                await keyless.start()
    finally:
        await keyless.close()
