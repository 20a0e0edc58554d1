"""One caller, two WHEP listeners: everyone hears both sides; the bridge codes once."""

from __future__ import annotations

import asyncio

from tests.conftest import Server
from tests.peers import Caller, Listener


async def test_two_listeners_hear_caller_and_agent_with_one_decode_and_encode(
    server: Server,
) -> None:
    session = await server.create_session()
    caller = Caller("hello.wav", loop_audio=True)
    listeners = [Listener(), Listener()]
    try:
        response = await server.whip(session["client_secret"]["value"], await caller.offer())
        assert response.status_code == 201
        await caller.accept(response.text)
        async with asyncio.timeout(10):
            await caller.next_event("state", state="connected")
        for listener in listeners:
            whep = await server.http.post(
                f"/v1/sessions/{session['id']}/whep",
                content=await listener.offer(),
                headers={**server.auth, "Content-Type": "application/sdp"},
            )
            assert whep.status_code == 201, whep.text
            assert whep.headers["location"].startswith(f"/v1/sessions/{session['id']}/whep/")
            await listener.accept(whep.text)
        async with asyncio.timeout(15):
            for listener in listeners:
                for index in (0, 1):
                    await (await listener.track(index)).wait_frames(50)
        live = server.node.sessions[session["id"]]
        call, bridge = live.call, live.bridge
        assert call.caller_audio.subscribers == 3  # bridge + one track per listener
        assert call.reply_audio.subscribers == 3  # caller + one track per listener
        # each listener got audio with energy on both tracks
        for listener in listeners:
            for track in listener.received:
                assert abs(track.samples()).max() > 0.01
        # Exactly one decode per caller frame and one encode per reply frame, whatever
        # the number of subscribers (no loss on loopback, so nothing was concealed).
        stats = bridge.stats()
        assert stats["frames_concealed"] == 0
        assert stats["frames_decoded"] == call.sequence.delivered
        assert stats["frames_encoded"] == call.reply_audio.frames
        assert call.reply_audio.frames >= 50
        # and every listener's reply track received what was encoded, not re-encoded
        agent_tracks = [
            track
            for listener in call.listeners.values()
            for publication, track in listener.tracks
            if publication is call.reply_audio
        ]
        assert len(agent_tracks) == 2
        assert all(t.sent > 50 for t in agent_tracks)
    finally:
        for listener in listeners:
            await listener.close()
        await caller.close()


async def test_whep_needs_the_api_key_and_a_live_caller(server: Server) -> None:
    session = await server.create_session()
    listener = Listener()
    try:
        offer = await listener.offer()
        url = f"/v1/sessions/{session['id']}/whep"
        anonymous = await server.http.post(
            url, content=offer, headers={"Content-Type": "application/sdp"}
        )
        assert anonymous.status_code == 401
        early = await server.http.post(
            url, content=offer, headers={**server.auth, "Content-Type": "application/sdp"}
        )
        assert early.status_code == 409
        assert "no caller yet" in early.json()["detail"]
    finally:
        await listener.close()
