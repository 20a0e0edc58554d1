"""Real aiortc peers for tests: a WHIP caller and a WHEP listener, loopback only."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError

DATA = Path(__file__).parent / "data"


def wav_samples(name: str) -> np.ndarray:
    """The shared speech sample as float32 mono at 48 kHz."""
    with wave.open(str(DATA / name)) as w:
        raw = w.readframes(w.getnframes())
    return np.frombuffer(raw, np.int16).astype(np.float32) / 32768


@dataclass
class Received:
    """Decoded audio of one incoming track (mono float32, 48 kHz)."""

    chunks: list[np.ndarray] = field(default_factory=list)
    frames: int = 0
    _waiters: list[tuple[int, asyncio.Future[None]]] = field(default_factory=list)

    def samples(self) -> np.ndarray:
        return np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.float32)

    def add(self, chunk: np.ndarray) -> None:
        self.chunks.append(chunk)
        self.frames += 1
        for wanted, future in self._waiters:
            if self.frames >= wanted and not future.done():
                future.set_result(None)

    async def wait_frames(self, count: int) -> None:
        """Until ``count`` frames in all have arrived."""
        if self.frames >= count:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((count, future))
        await future


async def _drain(track: MediaStreamTrack, sink: Received) -> None:
    with contextlib.suppress(MediaStreamError, asyncio.CancelledError):
        while True:
            frame = await track.recv()
            pcm = frame.to_ndarray().reshape(-1)
            channels = len(frame.layout.channels)
            mono = pcm[::channels] if channels > 1 else pcm
            sink.add(mono.astype(np.float32) / 32768)


class Peer:
    """Common parts: a peer with no ICE servers (no STUN) that reads what it receives."""

    def __init__(self, config: RTCConfiguration | None = None) -> None:
        self.pc = RTCPeerConnection(config or RTCConfiguration(iceServers=[]))
        self.received: list[Received] = []
        self._track_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.connected = asyncio.Event()

        @self.pc.on("track")
        def _track(track: MediaStreamTrack) -> None:
            sink = Received()
            self.received.append(sink)
            self._tasks.append(asyncio.ensure_future(_drain(track, sink)))
            for wanted, future in self._track_waiters:
                if len(self.received) >= wanted and not future.done():
                    future.set_result(None)

        @self.pc.on("connectionstatechange")
        def _state() -> None:
            if self.pc.connectionState == "connected":
                self.connected.set()

    async def track(self, index: int) -> Received:
        """The ``index``-th incoming track, once it exists."""
        if len(self.received) <= index:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._track_waiters.append((index + 1, future))
            await future
        return self.received[index]

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def accept(self, answer: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await self.pc.close()


class Caller(Peer):
    """Sends a WAV file as its microphone and opens the ``events`` data channel."""

    def __init__(
        self,
        wav: str | None = "hello.wav",
        loop_audio: bool = False,
        config: RTCConfiguration | None = None,
    ) -> None:
        super().__init__(config)
        self.player = MediaPlayer(str(DATA / wav), loop=loop_audio) if wav else None
        if self.player is not None and self.player.audio is not None:
            self.pc.addTransceiver(self.player.audio, direction="sendrecv")
        else:
            self.pc.addTransceiver("audio", direction="sendrecv")
        self._setup_events()

    def _setup_events(self) -> None:
        self.channel = self.pc.createDataChannel("events")
        self.events: list[dict[str, Any]] = []
        self._event_waiters: list[tuple[dict[str, Any], asyncio.Future[dict[str, Any]]]] = []

        @self.channel.on("message")
        def _message(text: str) -> None:
            event = json.loads(text)
            self.events.append(event)
            for wanted, future in list(self._event_waiters):
                if _matches(event, wanted) and not future.done():
                    future.set_result(event)

    async def next_event(
        self, kind: str, where: Callable[[dict[str, Any]], bool] | None = None, **fields: Any
    ) -> dict[str, Any]:
        """The first event of ``kind`` (with these field values, and ``where`` true),
        received or coming."""
        wanted: dict[str, Any] = {"type": kind, **fields}
        if where is not None:
            wanted[_WHERE] = where
        for event in self.events:
            if _matches(event, wanted):
                return event
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._event_waiters.append((wanted, future))
        return await future

    async def close(self) -> None:
        if self.player is not None and self.player.audio is not None:
            self.player.audio.stop()
        await super().close()


_WHERE = "__where__"


def _matches(event: dict[str, Any], wanted: dict[str, Any]) -> bool:
    if not all(event.get(key) == value for key, value in wanted.items() if key != _WHERE):
        return False
    where = wanted.get(_WHERE)
    return where is None or bool(where(event))


class Listener(Peer):
    """A WHEP client offering two receive-only audio sections (caller, agent)."""

    def __init__(self, sections: int = 2) -> None:
        super().__init__()
        for _ in range(sections):
            self.pc.addTransceiver("audio", direction="recvonly")


def best_alignment(reference: np.ndarray, signal: np.ndarray) -> tuple[float, int]:
    """Peak normalised cross-correlation of ``reference`` within ``signal`` and its lag."""
    n = len(reference) + len(signal)
    size = 1 << (n - 1).bit_length()
    spec = np.fft.rfft(signal, size) * np.conj(np.fft.rfft(reference, size))
    corr = np.fft.irfft(spec, size)[: len(signal)]
    lag = int(np.argmax(corr))
    window = signal[lag : lag + len(reference)]
    if len(window) < len(reference):
        window = np.pad(window, (0, len(reference) - len(window)))
    denom = float(np.linalg.norm(reference) * np.linalg.norm(window)) or 1.0
    return float(corr[lag] / denom), lag


class PcmTrack(MediaStreamTrack):
    """A microphone the test speaks into: queued PCM in real time, silence otherwise."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._pending = np.zeros(0, np.int16)
        self._pts = 0
        self._start: float | None = None
        self.spoken = asyncio.Event()  # set when everything queued has been sent

    def say(self, name: str) -> None:
        samples = (wav_samples(name) * 32767).astype(np.int16)
        self._pending = np.concatenate([self._pending, samples])
        self.spoken.clear()

    async def recv(self) -> av.AudioFrame:
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        wait = self._start + self._pts / 48000 - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)  # real-time pacing of the microphone, not a sync
        chunk = self._pending[:960]
        self._pending = self._pending[960:]
        if len(chunk) < 960:
            chunk = np.pad(chunk, (0, 960 - len(chunk)))
            self.spoken.set()
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 48000
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, 48000)
        self._pts += 960
        return frame


class Talker(Caller):
    """A caller whose microphone the test controls (``self.mic.say("hello.wav")``)."""

    def __init__(self) -> None:
        self.mic = PcmTrack()
        Peer.__init__(self)
        self.player = None
        self.pc.addTransceiver(self.mic, direction="sendrecv")
        self._setup_events()
