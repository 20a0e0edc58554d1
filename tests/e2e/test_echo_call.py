"""A real aiortc caller ↔ edgevoice over loopback, through WHIP, with the echo model."""

from __future__ import annotations

import asyncio
import gc
import socket

import numpy as np
from aiortc import RTCPeerConnection

from edgevoice.sfu.sdp import candidate_ports
from tests.conftest import Server
from tests.peers import Caller, best_alignment, wav_samples


async def test_whip_echo_returns_the_callers_speech(server: Server) -> None:
    session = await server.create_session()
    caller = Caller("hello.wav")
    try:
        response = await server.whip(session["client_secret"]["value"], await caller.offer())
        assert response.status_code == 201, response.text
        assert response.headers["content-type"].startswith("application/sdp")
        assert response.headers["location"].startswith("/v1/whip/")
        assert response.headers["etag"]
        await caller.accept(response.text)
        async with asyncio.timeout(10):
            await caller.connected.wait()
            await caller.next_event("stats")
        # The WAV is ~3 s; wait until the echo of all of it has come back.
        async with asyncio.timeout(15):
            received = await caller.track(0)
            await received.wait_frames(140)
        reply = received.samples()
        source = wav_samples("hello.wav")
        speech = source[int(0.5 * 48000) : int(2.0 * 48000)]  # the spoken part
        score, _ = best_alignment(speech, reply)
        assert score > 0.8, f"echo does not match the input (peak correlation {score:.2f})"
        assert np.abs(reply).max() > 0.05

        described = await server.http.get(f"/v1/sessions/{session['id']}", headers=server.auth)
        body = described.json()
        assert body["state"] == "connected"
        bridge = body["stats"]["bridge"]
        assert bridge["latency_ms"]["ingress"]["count"] > 100
        assert bridge["latency_ms"]["ingress"]["p99"] is not None
        assert bridge["latency_ms"]["egress"]["count"] > 100
        assert body["stats"]["tracks"]["caller_audio"]["frames"] > 100
        assert body["stats"]["jitter_seconds"] is not None
    finally:
        await caller.close()


async def test_delete_releases_everything(server: Server) -> None:
    gc.collect()
    tasks_before = asyncio.all_tasks()
    session = await server.create_session()
    caller = Caller("hello.wav", loop_audio=True)
    response = await server.whip(session["client_secret"]["value"], await caller.offer())
    assert response.status_code == 201
    answer = response.text
    ports = candidate_ports(answer)
    assert ports
    await caller.accept(answer)
    async with asyncio.timeout(10):
        await caller.next_event("state", state="connected")
        await (await caller.track(0)).wait_frames(10)  # media flows both ways
    live = server.node.sessions[session["id"]]
    assert live.call.state.value == "connected"
    server_pc: RTCPeerConnection = live.call._pc  # type: ignore[assignment]

    secret = session["client_secret"]["value"]
    deleted = await server.http.delete(
        response.headers["location"], headers={"Authorization": f"Bearer {secret}"}
    )
    assert deleted.status_code == 200
    assert session["id"] not in server.node.sessions
    assert server_pc.connectionState == "closed"
    # the UDP ports the session held can be bound again
    for port in set(ports):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", port))
    await caller.close()
    # every task started for the call (server and client side) finishes
    leftover = asyncio.all_tasks() - tasks_before - {asyncio.current_task()}
    if leftover:
        _, pending = await asyncio.wait(leftover, timeout=5)
        assert not pending, f"tasks still running after DELETE: {pending}"
    state = (await server.http.get(f"/v1/sessions/{session['id']}", headers=server.auth)).json()
    assert state["state"] == "closed"
    assert state["end_reason"] == "deleted by WHIP client"
    assert state["stats"]["tracks"]["caller_audio"]["frames"] > 0
    again = await server.http.delete(
        response.headers["location"], headers={"Authorization": f"Bearer {secret}"}
    )
    assert again.status_code == 200  # idempotent: the resource ended a moment ago
    body = (await server.http.get(f"/v1/sessions/{session['id']}", headers=server.auth)).json()
    assert body["end_reason"] == "deleted by WHIP client"  # the repeat changed nothing
