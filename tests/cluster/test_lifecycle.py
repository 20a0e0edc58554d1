"""A node's life in a cluster: SIGKILL, SIGTERM (drain), and Redis restarted under calls."""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

import httpx

from tests.cluster.harness import AUTH, Cluster, cluster, create, whip
from tests.peers import Caller


async def _call(http: httpx.AsyncClient, base: str, **body: Any) -> tuple[dict[str, Any], Caller]:
    session = (await create(http, base, **body)).json()
    caller = Caller("hello.wav", loop_audio=True)
    answer = await whip(http, session["whip_url"], session["client_secret"]["value"],
                        await caller.offer())  # fmt: skip
    assert answer.status_code == 201, answer.text
    await caller.accept(answer.text)
    async with asyncio.timeout(15):
        await caller.next_event("state", state="connected")
        await (await caller.track(0)).wait_frames(10)
    return session, caller


async def _more_frames(caller: Caller, count: int, seconds: float = 10) -> None:
    reply = await caller.track(0)
    async with asyncio.timeout(seconds):
        await reply.wait_frames(reply.frames + count)


async def test_a_killed_node_gets_no_sessions_and_its_calls_are_reported_failed() -> None:
    async with cluster() as c, httpx.AsyncClient(timeout=20) as http:
        doomed = await c.node("a-1", "eu")
        await c.node("a-2", "eu")
        sig = await c.signalling("eu")
        session, caller = await _call(http, sig.url)
        victim = doomed if session["node"]["id"] == "a-1" else c.procs[1]
        try:
            events = f"{sig.url}/v1/sessions/{session['id']}/events"
            async with http.stream("GET", events, headers=AUTH) as stream:
                lines = stream.aiter_lines()
                assert (await anext(lines)).startswith(":")
                victim.signal(signal.SIGKILL)
                killed = time.monotonic()
                async with asyncio.timeout(12):
                    async for _ in lines:  # the stream of a session lost with its node ends
                        pass
            assert time.monotonic() - killed <= 10.5
            body = (await http.get(f"{sig.url}/v1/sessions/{session['id']}", headers=AUTH)).json()
            assert body["state"] == "failed" and body["end_reason"] == "node_lost"
            for _ in range(6):  # nothing is placed on the dead node any more
                placed = (await create(http, sig.url)).json()
                assert placed["node"]["id"] != session["node"]["id"]
        finally:
            await caller.close()


async def test_sigterm_drains_without_cutting_a_live_call() -> None:
    async with cluster() as c, httpx.AsyncClient(timeout=20) as http:
        draining = await c.node("d-1", "eu", "--drain-seconds", "4")
        sig = await c.signalling("eu")
        session, caller = await _call(http, sig.url)
        try:
            draining.signal(signal.SIGTERM)
            await draining.wait_for("node d-1: draining 1 calls", 10)
            ready = await http.get(f"{draining.url}/readyz")  # HTTP still answers
            assert ready.status_code == 503
            assert ready.json()["draining"] and ready.json()["sessions"] == 1
            # no new session is placed on it; the cluster says it is full (503)
            refused = await create(http, sig.url)
            assert refused.status_code == 503 and int(refused.headers["retry-after"]) > 0
            # the live call goes on while the node drains ...
            await _more_frames(caller, 50)
            # ... and is ended, with a reason that says so, after --drain-seconds
            async with asyncio.timeout(15):
                closed = await caller.next_event("state", state="closed")
            assert "draining" in closed["reason"]
            assert await draining.exited() == 0
            body = (await http.get(f"{sig.url}/v1/sessions/{session['id']}", headers=AUTH)).json()
            assert body["state"] == "closed" and "draining" in body["end_reason"]
            nodes = (await http.get(f"{sig.url}/v1/nodes", headers=AUTH)).json()["nodes"]
            assert nodes == []  # deregistered
        finally:
            await caller.close()


async def _until_created(http: httpx.AsyncClient, base: str, seconds: float) -> dict[str, Any]:
    async with asyncio.timeout(seconds):
        while True:
            response = await create(http, base)
            if response.status_code == 201:
                created: dict[str, Any] = response.json()
                return created
            assert response.status_code == 503, response.text
            await asyncio.sleep(0.2)


async def test_a_redis_restart_does_not_drop_a_live_call() -> None:
    async with cluster() as c, httpx.AsyncClient(timeout=20) as http:
        assert isinstance(c, Cluster) and c.redis is not None
        node = await c.node("r-1", "eu")
        sig = await c.signalling("eu")
        _, caller = await _call(http, sig.url)
        try:
            await c.redis.kill()
            await _more_frames(caller, 50)  # Redis is gone: media goes on
            failed = await create(http, sig.url)
            assert failed.status_code == 503, failed.text  # no placements without Redis
            await c.redis.start()  # back, and empty
            back = time.monotonic()
            created = await _until_created(http, sig.url, 10)
            assert time.monotonic() - back < 10
            assert created["node"]["id"] == "r-1"
            await _more_frames(caller, 25)
            ready = (await http.get(f"{node.url}/readyz")).json()
            assert ready["registered"] and ready["sessions"] == 1
            # the call's record went with Redis; the call itself did not
            assert caller.pc.connectionState == "connected"
        finally:
            await caller.close()
