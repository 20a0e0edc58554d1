"""Slots in Redis are reserved atomically: concurrent creates through two signalling
apps never put more sessions on a node than its capacity."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest

from edgevoice.cluster.directory import RedisDirectory
from edgevoice.cluster.eventbus import RedisEventBus
from edgevoice.cluster.heartbeat import Registration
from edgevoice.cluster.nodeinfo import NodeInfo
from edgevoice.cluster.redisconn import connect
from edgevoice.signalling.app import create_app
from edgevoice.signalling.settings import Settings
from edgevoice.signalling.store import RedisStore
from tests.signalling.test_store import REDIS_URL

KEY = "evk_slots"


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    prefix = f"edgevoice-test-{secrets.token_hex(4)}:"
    yield prefix
    client = connect(REDIS_URL)
    keys = [k async for k in client.scan_iter(match=prefix + "*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_200_concurrent_creates_never_overfill_a_node(prefix: str) -> None:
    client = connect(REDIS_URL)
    directory = RedisDirectory(client, "s", prefix=prefix)
    for i in range(3):  # three nodes of capacity 5, as their heartbeats announce them
        info = NodeInfo(id=f"n{i}", region="eu", url=f"http://127.0.0.1:9/{i}", capacity=5,
                        heartbeat_at=time.time(), models=("echo",))  # fmt: skip
        await Registration(client, directory.keys, lambda info=info: info, list).beat()
    settings = Settings(api_key=KEY, region="eu", redis_url=REDIS_URL)
    apps = [
        create_app(
            settings,
            None,
            RedisStore(REDIS_URL, prefix=prefix),
            directory=RedisDirectory(client, "s", prefix=prefix),
            bus=RedisEventBus(client, prefix=prefix),
        )
        for _ in range(2)
    ]
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        for app in apps
    ]
    try:
        auth = {"Authorization": f"Bearer {KEY}"}
        responses = await asyncio.gather(
            *(clients[i % 2].post("/v1/sessions", json={"model": "echo"}, headers=auth)
              for i in range(200))
        )  # fmt: skip
        created = [r.json() for r in responses if r.status_code == 201]
        refused = [r for r in responses if r.status_code != 201]
        assert len(created) == 15
        assert Counter(c["node"]["id"] for c in created) == {"n0": 5, "n1": 5, "n2": 5}
        assert all(r.status_code == 503 and r.headers["retry-after"] for r in refused)
        assert "limit" in refused[0].json()["detail"]
        for i in range(3):
            assert await client.zcard(directory.keys.slots(f"n{i}")) == 5
        # deleting a session that never connected frees its slot for the next create
        gone = created[0]
        assert (
            await clients[0].delete(f"/v1/sessions/{gone['id']}", headers=auth)
        ).status_code == 204
        again = await clients[1].post("/v1/sessions", json={"model": "echo"}, headers=auth)
        assert again.status_code == 201 and again.json()["node"] == gone["node"]
    finally:
        for c in clients:
            await c.aclose()
        await client.aclose()
