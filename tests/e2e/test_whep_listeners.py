"""WHIP/WHEP as third-party clients use them: trickle vs restart, CORS everywhere,
listener tokens, the conversation mix, video rejected, idempotent DELETE, send-only."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from aiortc import RTCPeerConnection

from edgevoice.sfu import sdp
from tests.conftest import Server
from tests.peers import Caller, Listener

SDPFRAG = "application/trickle-ice-sdpfrag"
ORIGIN = {"Origin": "http://127.0.0.1:9"}  # a page of another origin


def frag(pc: RTCPeerConnection, ufrag: str | None = None, pwd: str | None = None) -> str:
    """An RFC 8840 trickle fragment as medooze's WHIPClient sends it."""
    ice = sdp.ice_credentials(pc.localDescription.sdp)
    return (
        f"a=ice-ufrag:{ufrag or ice.ufrag}\r\na=ice-pwd:{pwd or ice.pwd}\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n"
        "a=candidate:9 1 udp 2130706431 127.0.0.1 9 typ host\r\na=end-of-candidates\r\n"
    )


def cors_ok(headers: Any) -> bool:
    exposed = headers.get("access-control-expose-headers", "")
    return headers.get("access-control-allow-origin") == "*" and all(
        name in exposed for name in ("Location", "ETag", "Link")
    )


async def wait_for(condition: Any, seconds: float = 10) -> None:
    """For state with no event of its own (a listener's peer closing on the server)."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_trickle_restart_options_and_cors_on_errors(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="edgevoice.signalling.problems")
    options = await server.http.options("/v1/whip", headers=ORIGIN)
    assert options.status_code == 204 and cors_ok(options.headers)
    assert options.headers["accept-patch"] == SDPFRAG
    assert "PATCH" in options.headers["access-control-allow-methods"]
    caller = Caller("hello.wav", loop_audio=True)
    try:
        session = await server.connect(caller)
        secret = session["client_secret"]["value"]
        live = server.node.sessions[session["id"]]
        record = await server.node_store.get(session["id"])
        assert record is not None and record.resource_id is not None
        url = f"/v1/whip/{record.resource_id}"
        headers = {"Authorization": f"Bearer {secret}", "Content-Type": SDPFRAG, **ORIGIN}
        trickle = await server.http.patch(
            url, content=frag(caller.pc), headers={**headers, "If-Match": str(record.etag)}
        )
        assert trickle.status_code == 204, trickle.text
        assert cors_ok(trickle.headers)
        restart = await server.http.patch(
            url, content=frag(caller.pc, "newufrag", "newpassword0123456789"),
            headers={**headers, "If-Match": "*"},
        )  # fmt: skip
        assert restart.status_code == 422
        assert cors_ok(restart.headers) and "ICE restart" in restart.json()["detail"]
        assert live.call.state.value == "connected"  # the refused restart changed nothing
        # preflights of the WHEP endpoint and resource; errors reach other origins
        for path in (f"/v1/sessions/{session['id']}/whep", f"/v1/sessions/{session['id']}/whep/x"):
            pre = await server.http.options(path, headers=ORIGIN)
            assert pre.status_code == 204 and cors_ok(pre.headers)
            assert "Authorization" in pre.headers["access-control-allow-headers"]
        anonymous = await server.http.post(
            f"/v1/sessions/{session['id']}/whep",
            content="v=0\r\n",
            headers={"Content-Type": "application/sdp", **ORIGIN},
        )
        assert anonymous.status_code == 401 and cors_ok(anonymous.headers)
        assert anonymous.headers["content-type"] == "application/problem+json"
        assert "Bearer" in anonymous.json()["detail"]
        wrong_verb = await server.http.get("/v1/whip", headers=ORIGIN)
        assert wrong_verb.status_code == 405 and cors_ok(wrong_verb.headers)
        logged = caplog.text
        assert "-> 422" in logged and "-> 405" in logged and "-> 401" in logged
        # The peer closes first (as medooze's clients do), then DELETE: still 200
        await caller.close()
        async with asyncio.timeout(10):
            await live.ended.wait()
        await server.service_tasks()
        gone = await server.http.delete(url, headers={"Authorization": f"Bearer {secret}"})
        assert gone.status_code == 200, gone.text
        assert cors_ok(gone.headers)
    finally:
        await caller.close()


async def listen(
    server: Server, session_id: str, token: str, listener: Listener, query: str = ""
) -> Any:
    response = await server.http.post(
        f"/v1/sessions/{session_id}/whep{query}",
        content=await listener.offer(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/sdp", **ORIGIN},
    )
    assert response.status_code == 201, response.text
    assert cors_ok(response.headers) and response.headers["etag"]
    await listener.accept(response.text)
    return response


async def test_listener_token_mix_tracks_video_and_idempotent_delete(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="edgevoice.sfu.call")
    caller = Caller("hello.wav", loop_audio=True)
    mixed, mixed_too, caller_only, with_video = Listener(1), Listener(1), Listener(1), Listener(0)
    # audio first: aiortc as a client cannot bundle on a rejected first section (Chromium
    # can: the browser test's player offers video first)
    with_video.pc.addTransceiver("audio", direction="recvonly")
    with_video.pc.addTransceiver("video", direction="recvonly")
    everyone = (mixed, mixed_too, caller_only, with_video)
    try:
        session = await server.connect(caller)
        sid = str(session["id"])
        minted = await server.http.post(
            f"/v1/sessions/{sid}/listeners", json={"ttl_seconds": 60}, headers=server.auth
        )
        assert minted.status_code == 201, minted.text
        grant = minted.json()
        token = grant["token"]
        assert grant["whep_url"] == f"{server.url}/v1/sessions/{sid}/whep"
        described = (await server.http.get(f"/v1/sessions/{sid}", headers=server.auth)).json()
        assert "listener_tokens" not in described and token not in str(described)
        # a token is for its session only, and not a key for anything else
        other = await server.create_session()
        refused = await server.http.post(
            f"/v1/sessions/{other['id']}/whep", content=await Listener(1).offer(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/sdp"},
        )  # fmt: skip
        assert refused.status_code == 401
        assert (await server.http.get(f"/v1/sessions/{sid}", headers={
            "Authorization": f"Bearer {token}"})).status_code == 401  # fmt: skip
        bad_track = await server.http.post(
            f"/v1/sessions/{sid}/whep?track=video", content=await Listener(1).offer(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/sdp"},
        )  # fmt: skip
        assert bad_track.status_code == 400 and "caller|agent|mix" in bad_track.json()["detail"]

        first = await listen(server, sid, token, mixed)
        await listen(server, sid, token, mixed_too)
        await listen(server, sid, token, caller_only, "?track=caller")
        answer = (await listen(server, sid, token, with_video)).text
        video = answer[answer.index("m=video") :]
        assert video.startswith("m=video 0 ") and "a=candidate" not in video
        async with asyncio.timeout(15):
            for listener in everyone:
                await (await listener.track(0)).wait_frames(60)
        call, bridge = server.node.sessions[sid].call, server.node.sessions[sid].bridge
        assert call.mix_audio.subscribers == 3  # two single-section offers + the video one
        for listener in everyone:
            assert abs(listener.received[0].samples()).max() > 0.01
        # the mix is encoded once per frame for all three of its listeners
        assert bridge.mix.frames == call.mix_audio.frames >= 50
        mix_tracks = [
            t for lst in call.listeners.values() for p, t in lst.tracks if p is call.mix_audio
        ]
        assert len(mix_tracks) == 3 and all(t.sent > 40 for t in mix_tracks)
        # trickle on a WHEP resource, with the listener's current credentials
        resource = first.headers["location"]
        patched = await server.http.patch(
            resource, content=frag(mixed.pc),
            headers={"Authorization": f"Bearer {token}", "Content-Type": SDPFRAG,
                     "If-Match": first.headers["etag"]},
        )  # fmt: skip
        assert patched.status_code == 204, patched.text
        # the listener's peer closes first, then DELETE: 200, and again 200
        await mixed.close()
        await wait_for(lambda: len(call.listeners) == 3)
        for _ in range(2):
            deleted = await server.http.delete(
                resource, headers={"Authorization": f"Bearer {token}", **ORIGIN}
            )
            assert deleted.status_code == 200, deleted.text
        never = await server.http.delete(
            f"/v1/sessions/{sid}/whep/nosuchlistener", headers={"Authorization": f"Bearer {token}"}
        )
        assert never.status_code == 404 and cors_ok(never.headers)
        assert "WHEP listener" in caplog.text and "joined" in caplog.text
        assert "left (peer closed" in caplog.text
    finally:
        for listener in everyone:
            await listener.close()
        await caller.close()


async def test_a_send_only_caller_is_told_it_hears_nothing(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="edgevoice.sfu.call")
    caller = Caller(None)
    caller.pc.getTransceivers()[0].direction = "sendonly"
    try:
        await server.connect(caller)
        async with asyncio.timeout(10):
            warning = await caller.next_event("warning", code="caller_send_only")
        assert "send-only" in warning["message"]
        assert "the caller receives no audio: the offer is send-only" in caplog.text
        assert caller.pc.remoteDescription is not None
        assert "a=recvonly" in caller.pc.remoteDescription.sdp
    finally:
        await caller.close()
