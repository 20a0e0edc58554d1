"""Every error case answers with its status and a problem+json body, while a live call
in another session carries on untouched."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx

from edgevoice.signalling.auth import hash_secret
from tests.conftest import Server
from tests.peers import Caller

PCMU_ONLY = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "a=fingerprint:sha-256 00:11\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=sendrecv\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
)


def problem(response: httpx.Response, status: int, needle: str) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert needle.lower() in body["detail"].lower(), body["detail"]
    return body


async def test_error_cases_leave_a_live_call_alone(make_server: Callable[..., Any]) -> None:
    async with make_server(max_sessions=3, max_body_bytes=8192) as server:
        await _run_error_cases(server)


async def _run_error_cases(server: Server) -> None:
    http = server.http
    live = await server.create_session()
    caller = Caller("hello.wav", loop_audio=True)
    try:
        answer = await server.whip(live["client_secret"]["value"], await caller.offer())
        assert answer.status_code == 201
        await caller.accept(answer.text)
        async with asyncio.timeout(10):
            await caller.next_event("state", state="connected")
            reply = await caller.track(0)
            await reply.wait_frames(10)
        frames_before = reply.frames
        resource = answer.headers["location"]
        good_offer = caller.pc.localDescription.sdp
        other = await server.create_session()
        secret = other["client_secret"]["value"]
        sdp = {"Content-Type": "application/sdp"}

        # 400: malformed SDP, no Opus, no audio
        problem(await server.whip(secret, "hello"), 400, "v=0")
        problem(await server.whip(secret, PCMU_ONLY), 400, "opus")
        no_audio = "\r\n".join(line for line in good_offer.split("\r\n") if "audio" not in line)
        problem(await server.whip(secret, no_audio), 400, "audio")
        # 401: missing, wrong, expired secret; wrong API key
        problem(await http.post("/v1/whip", content=good_offer, headers=sdp), 401, "missing")
        problem(await server.whip("evs_wrong", good_offer), 401, "unknown")
        expired = await server.create_session()
        record = await server.node_store.get(expired["id"])
        record.expires_at = time.time() - 1
        await server.node_store.put(record)
        problem(await server.whip(expired["client_secret"]["value"], good_offer), 401, "expired")
        problem(
            await http.post("/v1/sessions", json={}, headers={"Authorization": "Bearer x"}),
            401,
            "wrong API key",
        )
        # 404: unknown resources and sessions
        problem(await http.delete("/v1/whip/nope", headers=_bearer(secret)), 404, "no such")
        problem(await http.get("/v1/sessions/sess_nope", headers=server.auth), 404, "no session")
        # 409: the live session already has its caller
        problem(await server.whip(live["client_secret"]["value"], good_offer), 409, "already")
        # 413: too large; 415: wrong content type
        big = good_offer + "a=x-padding:" + "x" * 10_000 + "\r\n"
        problem(await server.whip(secret, big), 413, "limit")
        problem(
            await http.post("/v1/whip", content=good_offer,
                            headers={"Content-Type": "text/plain", **_bearer(secret)}),
            415,
            "application/sdp",
        )  # fmt: skip
        # 503 + Retry-After: a session holds its slot from creation (the expired one
        # gave its slot back), so with the live call, `other` and one more, it is full
        await server.create_session()
        full = await http.post("/v1/sessions", json={"model": "echo"}, headers=server.auth)
        problem(full, 503, "limit")
        assert int(full.headers["retry-after"]) > 0
        # 400 on a bad session body
        problem(
            await http.post("/v1/sessions", json={"ttl_seconds": 1}, headers=server.auth),
            400,
            "ttl_seconds",
        )
        # PATCH on the live resource: wrong type 415, ICE restart 422, stale ETag 412
        live_auth = _bearer(live["client_secret"]["value"])
        frag = {"Content-Type": "application/trickle-ice-sdpfrag", **live_auth}
        problem(
            await http.patch(resource, content="x", headers={**live_auth, **sdp}), 415, "sdpfrag"
        )
        restart = "a=ice-ufrag:new1\r\na=ice-pwd:newpasswordnewpassword12\r\n"
        problem(await http.patch(resource, content=restart, headers=frag), 422, "ICE restart")
        trickle = "a=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\n"
        stale = await http.patch(resource, content=trickle, headers={**frag, "If-Match": '"x"'})
        problem(stale, 412, "If-Match")
        ok = await http.patch(resource, content=trickle, headers={**frag, "If-Match": "*"})
        assert ok.status_code == 204, ok.text
        # unknown route
        problem(await http.get("/v1/nothing"), 404, "no route")

        # CORS preflight for browsers
        options = await http.options("/v1/whip")
        assert options.status_code == 204
        assert options.headers["accept-post"] == "application/sdp"
        assert "Location" in options.headers["access-control-expose-headers"]

        # the live call never noticed
        async with asyncio.timeout(5):
            await reply.wait_frames(frames_before + 25)
        session = (await http.get(f"/v1/sessions/{live['id']}", headers=server.auth)).json()
        assert session["state"] == "connected"
        assert session["stats"]["tracks"]["caller_audio"]["lost"] == 0
    finally:
        await caller.close()


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_secret_is_stored_only_as_a_hash() -> None:
    assert hash_secret("evs_abc") != "evs_abc"
    assert len(hash_secret("evs_abc")) == 64
