"""The conversation mix for WHEP listeners: caller and agent in one Opus stream.

The bridge holds both sides as PCM (24 kHz mono): each caller frame once decoded,
each reply frame just before it is encoded. While somebody subscribes to the mix
output, each caller frame is summed with the next agent frame waiting (if any) and
encoded once, whatever the number of listeners: one extra encode per session, and
none at all while no listener wants the mix. Caller frames set the pace (they arrive
in real time); agent frames that pile up past ``MAX_AGENT_AHEAD`` (the caller's media
stalled) go out alone, so the agent is never delayed or lost.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

import numpy as np

from ..sfu.frames import FRAME_SAMPLES_48K, EncodedFrame, FramePublisher
from .opus import FRAME_BYTES, OpusEncoder

MAX_AGENT_AHEAD = 3  # frames (60 ms)


class MixOutput(FramePublisher, Protocol):
    """Where the mix goes (the call's mix publication); it tells who is listening."""

    @property
    def subscribers(self) -> int: ...


def mix_pcm(a: bytes, b: bytes) -> bytes:
    """Sum two PCM16 frames sample by sample, clipped to the 16-bit range; the shorter
    one counts as silence past its end."""
    x = np.frombuffer(a, dtype="<i2").astype(np.int32)
    y = np.frombuffer(b, dtype="<i2").astype(np.int32)
    if len(x) < len(y):
        x, y = y, x
    out = x.copy()
    out[: len(y)] += y
    return np.clip(out, -32768, 32767).astype("<i2").tobytes()


def frames_of(pcm: bytes) -> list[bytes]:
    """``pcm`` cut into 20 ms frames (a short tail padded with silence)."""
    out = [pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)]
    if out and len(out[-1]) < FRAME_BYTES:
        out[-1] = out[-1] + bytes(FRAME_BYTES - len(out[-1]))
    return out


class ConversationMix:
    def __init__(self, encoder_factory: Callable[[], OpusEncoder] = OpusEncoder) -> None:
        self._output: MixOutput | None = None
        self._make_encoder = encoder_factory
        self._encoder: OpusEncoder | None = None
        self._agent: deque[bytes] = deque()
        self._pts = -FRAME_SAMPLES_48K
        self.frames = 0

    def attach(self, output: MixOutput) -> None:
        """Mix into ``output`` whenever it has subscribers (idempotent)."""
        self._output = output

    @property
    def active(self) -> bool:
        output = self._output
        return output is not None and output.subscribers > 0

    def caller(self, pcm: bytes, origin: float) -> None:
        """A decoded caller frame: mixed with the agent's next frame and published."""
        if not self.active:
            self._agent.clear()
            return
        for frame in frames_of(pcm):
            agent = self._agent.popleft() if self._agent else None
            self._publish(frame if agent is None else mix_pcm(frame, agent), origin)

    def agent(self, pcm: bytes) -> None:
        """A reply frame about to be encoded for the caller."""
        if not self.active:
            return
        self._agent.extend(frames_of(pcm))
        while len(self._agent) > MAX_AGENT_AHEAD:
            self._publish(self._agent.popleft(), time.perf_counter())

    def _publish(self, pcm: bytes, origin: float) -> None:
        output = self._output
        assert output is not None
        if self._encoder is None:
            self._encoder = self._make_encoder()
        self._pts += FRAME_SAMPLES_48K
        self.frames += 1
        output.publish(EncodedFrame(self._encoder.encode(pcm), self._pts, origin))

    def tap(self, encoder: OpusEncoder) -> OpusEncoder:
        """``encoder`` as the reply's playout uses it, showing this mix each frame."""
        return _TappedEncoder(encoder, self.agent)


class _TappedEncoder(OpusEncoder):
    """An encoder that hands each PCM frame to ``seen`` before the real one encodes it."""

    def __init__(self, inner: OpusEncoder, seen: Callable[[bytes], None]) -> None:
        # No libopus state of its own: ``inner`` does the encoding.
        self._inner = inner
        self._seen = seen
        self.frames = 0

    def encode(self, pcm: bytes) -> bytes:
        self._seen(pcm)
        self.frames += 1
        return self._inner.encode(pcm)
