"""One loopback echo call at start, so the first callers do not pay for it.

A node's first call pays costs that every later call shares: the process's DTLS
certificate and OpenSSL context are made, the code pages of the TLS, SRTP and Opus
libraries are read in (~5 MiB of the cryptography package's OpenSSL alone), and
aiortc, aioice and the bridge build state they keep. Measured on a fresh `serve`
(echo model), the first session raised the resident set by ~6.8 MiB and each one
after it by ~0.35 MiB. So the node places one short call to itself before it serves:
a caller peer connection on the media address, through the real :class:`LiveSession`
(SFU call, bridge, Opus decode and encode, data channel), for a few frames, then
hangs up. It takes a fraction of a second; if it fails the node starts anyway.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from ..bridge.echo import EchoModel
from ..bridge.model import SessionSettings
from ..bridge.opus import FRAME_BYTES, OpusEncoder
from ..sfu.frames import FRAME_SAMPLES_48K, EncodedFrame
from ..sfu.peer import MediaConfig
from ..sfu.rtpwriter import DirectRtpWriter
from ..sfu.track import EncodedTrack
from .eventlog import EventLog
from .session import LiveSession

log = logging.getLogger(__name__)

WARM_FRAMES = 15  # 300 ms of caller audio through the bridge and back
WARM_TIMEOUT = 5.0


async def warm_up(media: MediaConfig, frames: int = WARM_FRAMES) -> float | None:
    """Place and end one echo call to this process; its duration in seconds (None if
    it failed, logged: the node serves anyway)."""
    started = time.perf_counter()
    # the answer must name an address this process reaches itself: not a public IP
    # that only outside callers can use (NAT without hairpin)
    local = dataclasses.replace(media, public_ip=None)
    try:
        async with asyncio.timeout(WARM_TIMEOUT):
            await _call(local, frames)
    except Exception as exc:  # anything: a warm-up must never stop the node
        log.warning("warm-up call failed (%s: %s); serving anyway", type(exc).__name__, exc)
        return None
    return time.perf_counter() - started


async def _call(media: MediaConfig, frames: int) -> None:
    echoed = asyncio.Event()
    back = 0

    def on_event(_: object) -> None:
        return None

    session = LiveSession(
        "warm-up",
        SessionSettings(model="echo"),
        EchoModel(),
        media,
        events=EventLog(keep=16),
        on_closed=lambda _: None,
        max_seconds=WARM_TIMEOUT,
        connect_timeout=WARM_TIMEOUT,
    )
    caller = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    connected = asyncio.Event()

    @caller.on("connectionstatechange")
    def _state() -> None:
        if caller.connectionState == "connected":
            connected.set()

    def on_reply(_: EncodedFrame) -> None:
        nonlocal back
        back += 1
        if back >= frames // 2:
            echoed.set()

    try:
        track = EncodedTrack(max_queue=frames)
        transceiver = caller.addTransceiver(track, direction="sendrecv")
        track.use_writer(DirectRtpWriter(transceiver))
        channel = caller.createDataChannel("events")
        channel.on("message", on_event)
        await caller.setLocalDescription(await caller.createOffer())
        answer = await session.connect(caller.localDescription.sdp)
        await caller.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        await connected.wait()
        session.call.reply_audio.subscribe(_Counter(on_reply))
        encoder = OpusEncoder()
        tone = _tone()
        for index in range(frames):
            packet = encoder.encode(tone)
            track.on_frame(EncodedFrame(packet, index * FRAME_SAMPLES_48K, time.perf_counter()))
            await asyncio.sleep(0.02)
        await echoed.wait()
    finally:
        await session.close("warm-up done")
        await caller.close()


class _Counter:
    """A frame sink on the reply publication: sees what the bridge sent back."""

    def __init__(self, on_frame: Callable[[EncodedFrame], None]) -> None:
        self.on_frame = on_frame

    def on_end(self) -> None:
        return None


def _tone() -> bytes:
    """20 ms of a quiet 440 Hz tone, PCM16 mono 24 kHz (the codec warms on sound)."""
    import math
    import struct

    samples = FRAME_BYTES // 2
    values = (int(3000 * math.sin(2 * math.pi * 440 * i / 24_000)) for i in range(samples))
    return struct.pack(f"<{samples}h", *values)
