"""The baseline: an echo server written the way most aiortc apps are.

The caller's track goes through ``MediaRelay``; every subscriber (the caller's own
echo, each WHEP listener's tracks) gets a relayed copy, so aiortc decodes the caller
once (jitter buffer + decoder thread) and encodes again for every subscriber. It
speaks the bench's API subset (see ``common.py``) so ``edgevoice bench`` drives it
like edgevoice. Run: ``python bench/naive_server.py --port 8081``.
"""

from __future__ import annotations

from typing import Any

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from common import Sessions, describe_caller, require_api_key, serve, session_routes
from fastapi import FastAPI, HTTPException, Request, Response

relay = MediaRelay()
sessions = Sessions()
app = FastAPI()
session_routes(app, sessions)


class Media:
    def __init__(self) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.track: MediaStreamTrack | None = None
        self.listeners: list[RTCPeerConnection] = []


async def _answer(pc: RTCPeerConnection, offer: str) -> str:
    await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    return str(pc.localDescription.sdp)


@app.post("/v1/whip", status_code=201)
async def whip(request: Request) -> Response:
    session = sessions.by_secret(request)
    media = session.media = Media()

    @media.pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        if track.kind == "audio":
            media.track = track
            media.pc.addTrack(relay.subscribe(track))  # echo: decoded, then encoded again

    answer = await _answer(media.pc, (await request.body()).decode())
    headers = {"Location": f"/v1/whip/{session.id}"}
    return Response(answer, 201, media_type="application/sdp", headers=headers)


@app.delete("/v1/whip/{session_id}")
async def whip_delete(session_id: str, request: Request) -> Response:
    session = sessions.by_secret(request)
    if session.id != session_id:
        raise HTTPException(403, "not this session's secret")
    media: Media = session.media
    for pc in [*media.listeners, media.pc]:
        await pc.close()
    sessions.by_id.pop(session_id, None)
    return Response(status_code=200)


@app.post("/v1/sessions/{session_id}/whep", status_code=201)
async def whep(session_id: str, request: Request) -> Response:
    require_api_key(request)
    media: Media | None = sessions.get(session_id).media
    if media is None or media.track is None:
        raise HTTPException(409, "no caller yet")
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    await pc.setRemoteDescription(
        RTCSessionDescription(sdp=(await request.body()).decode(), type="offer")
    )
    for transceiver in pc.getTransceivers():  # caller and "agent": both the caller, relayed
        transceiver.direction = "sendonly"
        transceiver.sender.replaceTrack(relay.subscribe(media.track))
    await pc.setLocalDescription(await pc.createAnswer())
    media.listeners.append(pc)
    headers = {"Location": f"/v1/sessions/{session_id}/whep/{len(media.listeners)}"}
    return Response(pc.localDescription.sdp, 201, media_type="application/sdp", headers=headers)


@app.get("/v1/sessions/{session_id}")
async def describe(session_id: str, request: Request) -> dict[str, Any]:
    require_api_key(request)
    media: Media | None = sessions.get(session_id).media
    return await describe_caller(session_id, media.pc if media is not None else None)


def main() -> None:
    serve(app, __doc__, 8081)


if __name__ == "__main__":
    main()
