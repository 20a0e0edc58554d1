"""Event streams: a reader that falls behind is told how many events it lost (in
process and over Redis), and the stream of an ended session replays what is kept and
ends instead of hanging."""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

import redis.asyncio as redis

from edgevoice.cluster.eventbus import NodeEventBus, RedisEventBus, RedisEventPublisher
from edgevoice.node.eventlog import EVENTS_LOST, EventLog
from edgevoice.node.node import Node
from edgevoice.sfu.peer import MediaConfig
from tests.conftest import Server
from tests.peers import Caller
from tests.signalling.test_store import REDIS_URL


async def _never_over() -> bool:
    return False


async def test_a_reader_more_than_a_thousand_events_behind_gets_events_lost() -> None:
    log = EventLog()
    reader = log.reader(replay=False)
    for i in range(1500):
        log.append({"type": "tick", "i": i})
    got = [await reader.get(idle=1) for _ in range(1001)]
    assert [e["seq"] for e in got[:1000] if e] == list(range(1, 1001))
    marker = got[1000]
    assert marker is not None and marker["type"] == EVENTS_LOST
    assert (marker["count"], marker["first_seq"], marker["seq"]) == (500, 1001, 1500)
    assert reader.lost == 500
    after = log.append({"type": "tick", "i": 1500})
    assert await reader.get(idle=1) == after  # the stream goes on after the gap
    log.close()
    end = await reader.get(idle=1)
    assert end is not None and end["type"] == "session.ended"


async def test_a_slow_in_process_follower_sees_the_gap() -> None:
    node = Node(MediaConfig())
    log = node.event_log("sess_x")
    follower = NodeEventBus(node).follow("sess_x", _never_over)
    log.append({"type": "first"})
    assert (await anext(follower))["type"] == "first"
    for i in range(1200):  # the follower reads nothing meanwhile
        log.append({"type": "tick", "i": i})
    node.forget("sess_x")  # ends the stream
    rest = [e async for e in follower]
    lost = [e for e in rest if e["type"] == EVENTS_LOST]
    assert len(lost) == 1 and lost[0]["count"] == 200
    assert len(rest) == 1001 and rest[-1]["type"] == EVENTS_LOST


async def test_a_slow_redis_follower_sees_the_gap() -> None:
    client = redis.from_url(REDIS_URL, decode_responses=True)
    prefix = f"edgevoice-test-{secrets.token_hex(4)}:"
    publisher = RedisEventPublisher(client, prefix=prefix)
    bus = RedisEventBus(client, prefix=prefix, block_ms=200)
    log = EventLog(on_append=lambda e: publisher.publish("sess_r", e))
    try:
        log.append({"type": "first"})
        await publisher.flush()
        follower = bus.follow("sess_r", _never_over)
        assert (await anext(follower))["type"] == "first"
        for i in range(3000):  # the stream keeps about the last thousand
            log.append({"type": "tick", "i": i})
        publisher.publish("sess_r", {"type": "session.ended"})
        await publisher.flush()
        async with asyncio.timeout(10):
            rest = [e async for e in follower]
        lost = [e for e in rest if e["type"] == EVENTS_LOST]
        assert len(lost) == 1, [e["type"] for e in rest[:3]]
        ticks = [e for e in rest if e["type"] == "tick"]
        assert lost[0]["first_seq"] == 2 and lost[0]["seq"] == ticks[0]["seq"] - 1
        assert lost[0]["count"] + len(ticks) == 3000
        assert [e["seq"] for e in ticks] == list(range(ticks[0]["seq"], 3002))
    finally:
        await client.delete(f"{prefix}events:sess_r")
        await client.aclose()


async def _read_stream(server: Server, session_id: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(10):
        url = f"/v1/sessions/{session_id}/events"
        async with server.http.stream("GET", url, headers=server.auth) as response:
            assert response.status_code == 200
            async for line in response.aiter_lines():  # ends: no timeout here
                if line.startswith("data: "):
                    seen.append(json.loads(line[6:]))
    return seen


async def test_the_stream_of_an_ended_session_replays_what_is_kept_and_ends(
    server: Server,
) -> None:
    caller = Caller("hello.wav", loop_audio=True)
    try:
        session = await server.connect(caller)
        deleted = await server.http.delete(f"/v1/sessions/{session['id']}", headers=server.auth)
        assert deleted.status_code == 204
        await server.service_tasks()
    finally:
        await caller.close()
    for _ in range(2):  # a second reader gets the same replay
        seen = await _read_stream(server, session["id"])
        states = [e.get("state") for e in seen if e["type"] == "state"]
        assert states[:2] == ["connecting", "connected"] and states[-1] == "closed"
        assert seen[-1]["type"] == "state" and seen[-1]["reason"] == "deleted by API"
    assert session["id"] not in server.node._logs


async def test_the_stream_of_a_secret_that_expired_unused_ends(server: Server) -> None:
    session = await server.create_session(ttl_seconds=5)
    record = await server.node_store.get(session["id"])
    assert record is not None
    url = f"/v1/sessions/{session['id']}/events"
    async with asyncio.timeout(15):
        async with server.http.stream("GET", url, headers=server.auth) as response:
            lines = response.aiter_lines()
            assert (await anext(lines)).startswith(":")
            record.expires_at = 0  # nobody reads the record: the stream must notice itself
            await server.node_store.put(record)
            rest = [line async for line in lines]
    assert not any(line.startswith("data:") for line in rest)
