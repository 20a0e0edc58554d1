"""Session life: events stream, expiry, a dead peer, the Redis store end to end."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import aioice.ice
import pytest

from tests.conftest import Server
from tests.peers import Caller
from tests.signalling.test_store import REDIS_URL


async def test_backend_follows_events_over_sse(server: Server) -> None:
    caller = Caller("hello.wav", loop_audio=True)
    try:
        session = await server.connect(caller)
        seen: list[dict[str, Any]] = []
        async with asyncio.timeout(10):
            async with server.http.stream(
                "GET", f"/v1/sessions/{session['id']}/events", headers=server.auth
            ) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        seen.append(json.loads(line[6:]))
                    if any(e["type"] == "stats" for e in seen):
                        break
        types = [e["type"] for e in seen]
        assert "state" in types and "stats" in types
        stats = next(e for e in seen if e["type"] == "stats")
        assert stats["bridge"]["latency_ms"]["ingress"]["count"] > 0
    finally:
        await caller.close()


async def test_unused_secret_expires(server: Server) -> None:
    session = await server.create_session(ttl_seconds=5)
    record = await server.node_store.get(session["id"])
    assert record is not None
    assert 4 <= record.expires_at - time.time() <= 5
    record.expires_at = time.time() - 0.1
    await server.node_store.put(record)
    body = (await server.http.get(f"/v1/sessions/{session['id']}", headers=server.auth)).json()
    assert body["state"] == "expired"


async def test_a_peer_that_stops_answering_ends_the_session(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aioice.ice, "CONSENT_INTERVAL", 0.2)
    monkeypatch.setattr(aioice.ice, "CONSENT_FAILURES", 3)
    caller = Caller("hello.wav", loop_audio=True)
    try:
        session = await server.connect(caller)
        live = server.node.sessions[session["id"]]
        # the caller vanishes without a goodbye: its UDP sockets just close
        ice = caller.pc.getTransceivers()[0].sender.transport.transport
        for protocol in ice._connection._protocols:
            protocol.transport.close()
        async with asyncio.timeout(10):
            await live.ended.wait()
        assert session["id"] not in server.node.sessions
        await server.service_tasks()
        body = (await server.http.get(f"/v1/sessions/{session['id']}", headers=server.auth)).json()
        assert body["state"] == "closed"
        assert body["end_reason"].startswith("peer")
    finally:
        await caller.close()


async def test_whole_call_with_the_redis_store(make_server: Callable[..., Any]) -> None:
    async with make_server(redis_url=REDIS_URL) as server:
        caller = Caller("hello.wav", loop_audio=True)
        try:
            session = await server.connect(caller)
            stored = await server.node_store.get(session["id"])
            assert stored is not None and stored.resource_id
            assert type(server.node_store).__name__ == "RedisStore"
            await server.http.delete(f"/v1/sessions/{session['id']}", headers=server.auth)
            await server.service_tasks()
            body = await server.http.get(f"/v1/sessions/{session['id']}", headers=server.auth)
            assert body.json()["state"] == "closed"
        finally:
            await caller.close()


async def test_whip_answer_links_ice_servers_with_turn_credentials(
    make_server: Callable[..., Any],
) -> None:
    urls = ["stun:stun.example.net:3478", "turn:turn.example.net:3478?transport=udp"]
    async with make_server(ice_servers=urls, turn_secret="s3cret") as server:
        session = await server.create_session()
        assert [s["urls"][0] for s in session["ice_servers"]] == urls
        assert session["ice_servers"][1]["username"].endswith(":" + session["id"])
        caller = Caller(None)
        try:
            answer = await server.whip(session["client_secret"]["value"], await caller.offer())
            links = answer.headers.get_list("link")
            assert len(links) == 2
            assert links[0] == '<stun:stun.example.net:3478>; rel="ice-server"'
            assert 'credential-type="password"' in links[1]
        finally:
            await caller.close()


async def test_event_stream_of_a_session_deleted_before_connecting_ends(server: Server) -> None:
    session = await server.create_session()
    url = f"/v1/sessions/{session['id']}/events"
    async with asyncio.timeout(10):
        async with server.http.stream("GET", url, headers=server.auth) as response:
            lines = response.aiter_lines()
            assert (await anext(lines)).startswith(":")  # the stream is open
            deleted = await server.http.delete(f"/v1/sessions/{session['id']}", headers=server.auth)
            assert deleted.status_code == 204
            rest = [line async for line in lines]  # ends instead of hanging
    assert not any(line.startswith("data:") for line in rest)
    body = (await server.http.get(f"/v1/sessions/{session['id']}", headers=server.auth)).json()
    assert body["state"] == "closed" and body["end_reason"] == "deleted by API"
