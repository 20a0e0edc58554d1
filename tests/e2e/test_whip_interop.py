"""Interop with a real third-party WHIP client: GStreamer's simple-whip-client."""

from __future__ import annotations

import asyncio
import os

import pytest

from tests.conftest import Server
from tests.peers import DATA
from tests.whipclient.harness import available, wav_pipeline, whip_client

pytestmark = [
    pytest.mark.whip_client,
    # scripts/test.sh installs the client; only a bare developer machine may skip
    pytest.mark.skipif(not available() and not os.environ.get("CI"), reason="no whip-client"),
]


async def test_gstreamer_whip_client_sends_speech_through_the_bridge(server: Server) -> None:
    session = await server.create_session()
    events = server.node.event_log(session["id"])
    async with whip_client(
        session["whip_url"],
        token=session["client_secret"]["value"],
        audio_pipeline=wav_pipeline(DATA / "hello.wav"),
    ) as client:
        assert "a=setup:passive" in client.answer_sdp
        async with asyncio.timeout(20):
            async for event in events.follow():
                if event["type"] != "stats":
                    continue
                bridge = event["bridge"]
                if bridge["frames_decoded"] >= 150:
                    break
        # the client trickles its candidates by PATCH after connecting: all loopback
        assert client.local_addresses == {"127.0.0.1"}
        live = server.node.sessions[session["id"]]
        assert live.call.state.value == "connected"
        assert live.bridge.stats()["decode_errors"] == 0
        # echoed back through the encoder (paced at real time, so it may trail the input)
        assert live.call.reply_audio.frames >= 50
    assert client.deleted
    await server.service_tasks()
    body = (await server.http.get(f"/v1/sessions/{session['id']}", headers=server.auth)).json()
    assert body["state"] == "closed"
    assert body["end_reason"] == "deleted by WHIP client"
