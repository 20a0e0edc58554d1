"""A voice caller that times a conversation from where the caller sits.

It speaks through a real aiortc peer connection: its microphone is a script of PCM
(speech from WAV files, silence otherwise), encoded and sent on its own 20 ms clock.
Each frame's send time is recorded, so every sample has a *mouth time*: frame ``k``
leaves once its 20 ms are captured, and sample ``s`` of it was spoken 20 ms - s/24 kHz
before that. What comes back is tapped before the jitter buffer (``sfu.tap``), decoded
packet by packet and kept as (arrival, loudness). The two timelines share one clock
(``time.perf_counter``), so

- voice-to-voice = first audible reply packet at the caller - mouth time of the last
  voiced sample of the caller's turn;
- barge-in = end of the last reply audio at the caller (arrival of its last packet +
  the 20 ms it holds) - mouth time of the first voiced sample spoken over the reply.

The caller's jitter buffer and speaker are not counted (they are the client's).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from ..bridge.errors import CodecError
from ..bridge.opus import FRAME_SAMPLES, MODEL_RATE, OpusDecoder, OpusEncoder
from ..sfu.frames import FRAME_SAMPLES_48K, EncodedFrame
from ..sfu.rtpwriter import DirectRtpWriter
from ..sfu.tap import RtpLike, tap_receiver
from ..sfu.track import EncodedTrack

TICK = 0.020
VOICED_RMS = 300.0  # a 10 ms window louder than this (about -40 dBFS) is voice
AUDIBLE_RMS = 100.0  # a reply packet louder than this is audible reply audio
CONNECT_SECONDS = 20.0
REPLY_GAP = 0.15  # a pause this long between reply packets ends a run of reply audio

Answerer = Callable[[str], Awaitable[str]]
"""Takes the caller's SDP offer, returns the answer (WHIP over HTTP, or in-process)."""


def voiced_span(pcm: np.ndarray, window: int = MODEL_RATE // 100) -> tuple[int, int] | None:
    """First and last voiced sample of int16 24 kHz ``pcm``, by 10 ms windows (pure)."""
    n = len(pcm) // window
    if n == 0:
        return None
    blocks = pcm[: n * window].astype(np.float32).reshape(n, window)
    loud = np.flatnonzero(np.sqrt(np.mean(blocks**2, axis=1)) >= VOICED_RMS)
    if loud.size == 0:
        return None
    return int(loud[0]) * window, int(loud[-1] + 1) * window


def first_audible(heard: list[tuple[float, float]], after: float) -> float | None:
    """Arrival of the first audible packet at or after ``after`` (pure)."""
    for arrival, rms in heard:
        if arrival >= after and rms >= AUDIBLE_RMS:
            return arrival
    return None


def run_end(heard: list[tuple[float, float]], after: float, gap: float = REPLY_GAP) -> float:
    """When the run of reply packets going on at ``after`` ended at the caller: arrival of
    its last packet + one frame; ``after`` itself if no reply packet came after it (pure)."""
    last: float | None = None
    for arrival, _ in heard:
        if arrival < after:
            last = arrival
            continue
        if last is not None and arrival - last > gap:
            break
        last = arrival
    if last is None or last < after:
        return after
    return last + TICK


@dataclass
class Utterance:
    """One thing the caller said: where it sits in the send timeline."""

    first_frame: int
    onset: int  # first voiced sample, from the utterance's start
    end: int  # one past the last voiced sample
    frames: int
    sent: asyncio.Event = field(default_factory=asyncio.Event)


class VoiceCaller:
    def __init__(self) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.track = EncodedTrack(max_queue=10)
        transceiver = self.pc.addTransceiver(self.track, direction="sendrecv")
        self.track.use_writer(DirectRtpWriter(transceiver))
        tap_receiver(transceiver.receiver, self._packet)
        self.channel = self.pc.createDataChannel("events")
        self.channel.on("message", self._event)
        self.connected = asyncio.Event()
        self.encoder = OpusEncoder()
        self.decoder = OpusDecoder()
        self.heard: list[tuple[float, float]] = []  # (arrival, rms) per reply packet
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.sent_at: list[float] = []  # perf_counter when frame k was sent
        self._script: list[np.ndarray] = []
        self._pending: list[Utterance] = []
        self._timer: asyncio.TimerHandle | None = None
        self._next = 0.0
        self._pts = 0
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []

        @self.pc.on("connectionstatechange")
        def _state() -> None:
            if self.pc.connectionState == "connected":
                self.connected.set()

    async def connect(self, answerer: Answerer) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        answer = await answerer(self.pc.localDescription.sdp)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        async with asyncio.timeout(CONNECT_SECONDS):
            await self.connected.wait()
        loop = asyncio.get_running_loop()
        self._next = loop.time()
        self._timer = loop.call_at(self._next, self._tick)

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        await self.pc.close()

    # speaking -----------------------------------------------------------------------
    def say(self, pcm: np.ndarray) -> Utterance:
        """Queue int16 24 kHz ``pcm`` after what is already queued."""
        span = voiced_span(pcm) or (0, len(pcm))
        frames = -(-len(pcm) // FRAME_SAMPLES)
        padded = np.zeros(frames * FRAME_SAMPLES, np.int16)
        padded[: len(pcm)] = pcm
        first = len(self.sent_at) + len(self._script)
        self._script.extend(padded.reshape(frames, FRAME_SAMPLES))
        utterance = Utterance(first, span[0], span[1], frames)
        self._pending.append(utterance)
        return utterance

    def mouth_time(self, utterance: Utterance, sample: int) -> float:
        """When ``sample`` of a sent utterance was spoken (the caller's clock)."""
        frame, offset = divmod(sample, FRAME_SAMPLES)
        frame = min(frame, utterance.frames - 1)
        return self.sent_at[utterance.first_frame + frame] - TICK + offset / MODEL_RATE

    def onset_time(self, utterance: Utterance) -> float:
        return self.mouth_time(utterance, utterance.onset)

    def end_time(self, utterance: Utterance) -> float:
        return self.mouth_time(utterance, utterance.end)

    def _tick(self) -> None:
        pcm = self._script.pop(0) if self._script else None
        data = self.encoder.encode(pcm.tobytes() if pcm is not None else bytes(FRAME_SAMPLES * 2))
        now = time.perf_counter()
        self.track.on_frame(EncodedFrame(data, self._pts, now))
        self._pts += FRAME_SAMPLES_48K
        self.sent_at.append(now)
        done = len(self.sent_at)
        while self._pending and self._pending[0].first_frame + self._pending[0].frames <= done:
            self._pending.pop(0).sent.set()
        loop = asyncio.get_running_loop()
        self._next += TICK
        self._timer = loop.call_at(max(self._next, loop.time()), self._tick)

    # hearing ------------------------------------------------------------------------
    def _packet(self, packet: RtpLike, arrival: float) -> None:
        try:
            pcm = np.frombuffer(self.decoder.decode(packet.payload), np.int16)
        except CodecError:
            pcm = np.zeros(0, np.int16)
        rms = float(np.sqrt(np.mean(pcm.astype(np.float32) ** 2))) if pcm.size else 0.0
        self.heard.append((arrival, rms))
        self._check()

    def _event(self, message: object) -> None:
        if isinstance(message, str):
            self.events.append((time.perf_counter(), json.loads(message)))
            self._check()

    def _check(self) -> None:
        for condition, future in list(self._waiters):
            if not future.done() and condition():
                future.set_result(None)
                self._waiters.remove((condition, future))

    async def until(self, condition: Callable[[], bool]) -> None:
        """Until ``condition()`` holds after a packet or event (bound it with a timeout)."""
        if condition():
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((condition, future))
        await future

    async def audible_after(self, after: float) -> float:
        await self.until(lambda: first_audible(self.heard, after) is not None)
        found = first_audible(self.heard, after)
        assert found is not None
        return found

    async def quiet(self, seconds: float = 0.4) -> None:
        """Until no reply packet has come for ``seconds`` (waiting on an absence)."""
        while True:
            last = self.heard[-1][0] if self.heard else 0.0
            left = last + seconds - time.perf_counter()
            if left <= 0:
                return
            await asyncio.sleep(left)

    def event(self, kind: str, after: float = 0.0) -> dict[str, Any] | None:
        for at, event in self.events:
            if at >= after and event.get("type") == kind:
                return event
        return None

    def count(self, kind: str, after: float = 0.0) -> int:
        return sum(1 for at, e in self.events if at >= after and e.get("type") == kind)
