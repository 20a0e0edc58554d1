"""FastRTC's echo, as its docs write it: a ``Stream`` with an echo handler on FastAPI.

The handler is an ``AsyncStreamHandler`` whose ``receive`` queues each decoded frame
and whose ``emit`` returns it: FastRTC decodes the caller (aiortc's jitter buffer and
decoder, then its own resampling to the handler's rate) and re-encodes the reply.
FastRTC has its own offer endpoint (``POST /webrtc/offer``, JSON); the bench's API
subset (see ``common.py``) is a thin WHIP shim over the same ``handle_offer``, so
``edgevoice bench`` drives it like the others. FastRTC pulls in gradio, so it lives in
its own virtual environment (see docs/benchmarks.md):
``/work/fastrtc-venv/bin/python bench/fastrtc_server.py --port 8082``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from common import Sessions, describe_caller, require_api_key, serve, session_routes
from fastapi import FastAPI, HTTPException, Request, Response
from fastrtc import AsyncStreamHandler, Stream


class Echo(AsyncStreamHandler):
    """Returns every frame it receives (48 kHz in, 48 kHz out)."""

    def __init__(self) -> None:
        super().__init__(input_sample_rate=48_000, output_sample_rate=48_000)
        self.frames: asyncio.Queue[tuple[int, np.ndarray]] = asyncio.Queue()

    async def receive(self, frame: tuple[int, np.ndarray]) -> None:
        self.frames.put_nowait(frame)

    async def emit(self) -> tuple[int, np.ndarray]:
        return await self.frames.get()

    def copy(self) -> Echo:
        return Echo()


stream = Stream(
    Echo(),
    modality="audio",
    mode="send-receive",
    concurrency_limit=100_000,
    server_rtc_configuration={"iceServers": []},
)
sessions = Sessions()
app = FastAPI()
stream.mount(app)
session_routes(app, sessions)


@app.post("/v1/whip", status_code=201)
async def whip(request: Request) -> Response:
    session = sessions.by_secret(request)
    body = {"sdp": (await request.body()).decode(), "type": "offer", "webrtc_id": session.id}
    answer = await stream.handle_offer(body, set_outputs=stream.set_additional_outputs(session.id))
    if not isinstance(answer, dict) or "sdp" not in answer:
        raise HTTPException(503, f"fastrtc refused the offer: {answer}")
    headers = {"Location": f"/v1/whip/{session.id}"}
    return Response(answer["sdp"], 201, media_type="application/sdp", headers=headers)


@app.delete("/v1/whip/{session_id}")
async def whip_delete(session_id: str, request: Request) -> Response:
    session = sessions.by_secret(request)
    pc = stream.pcs.get(session.id)
    if pc is not None:
        await pc.close()
    sessions.by_id.pop(session_id, None)
    return Response(status_code=200)


@app.get("/v1/sessions/{session_id}")
async def describe(session_id: str, request: Request) -> dict[str, Any]:
    require_api_key(request)
    sessions.get(session_id)
    return await describe_caller(session_id, stream.pcs.get(session_id))


def main() -> None:
    serve(app, __doc__, 8082)


if __name__ == "__main__":
    main()
