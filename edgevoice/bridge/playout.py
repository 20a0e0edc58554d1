"""The reply's way out: model PCM in any chunk size → paced 20 ms Opus frames.

Each 20 ms of reply is encoded once and published once (the SFU fans it out). A
frame goes out as soon as its slot comes: audio that arrives in real time (the echo
model) leaves at once, a burst (TTS faster than real time) is paced at 20 ms so the
caller's jitter buffer is not flooded. Until a frame is encoded it can be dropped:
barge-in clears the queue and learns how much of the item the caller heard.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ..sfu.frames import FRAME_SAMPLES_48K, OPUS_CLOCK, EncodedFrame, FramePublisher
from .opus import FRAME_BYTES, MODEL_RATE, OpusEncoder

FRAME_SECONDS = 0.020
BURST_AHEAD = 0.060  # how far ahead of real time audio may run (3 frames)
RESET_GAP = 0.200  # an underrun this long starts a new talkspurt


def truncate_position_ms(played_ms: int, received_ms: int) -> int:
    """Where to truncate an interrupted item: what was played, never 0, at most received."""
    return max(1, min(played_ms, received_ms))


def pcm_ms(n_bytes: int) -> int:
    return n_bytes * 1000 // (MODEL_RATE * 2)


@dataclass(slots=True)
class _Pending:
    pcm: bytes
    item_id: str
    origin: float


@dataclass(slots=True)
class Interrupted:
    item_id: str
    played_ms: int
    received_ms: int
    dropped_frames: int


class Playout:
    def __init__(
        self,
        encoder: OpusEncoder,
        publisher: FramePublisher,
        *,
        on_published: Callable[[EncodedFrame], None] | None = None,
        paced: bool = True,
    ) -> None:
        self._paced = paced
        self._encoder = encoder
        self._publisher = publisher
        self._on_published = on_published
        self._queue: deque[_Pending] = deque()
        self._partial = b""
        self._partial_item = ""
        self._timer: asyncio.TimerHandle | None = None
        self._anchor: float | None = None  # start of the current talkspurt
        self._spurt_frames = 0
        self._start: float | None = None
        self._pts = -FRAME_SAMPLES_48K
        self.played_ms: dict[str, int] = {}
        self.received_ms: dict[str, int] = {}
        self.current_item: str | None = None
        self.frames_published = 0

    @property
    def queued_frames(self) -> int:
        return len(self._queue)

    def push(self, pcm: bytes, item_id: str, origin: float) -> None:
        """Queue model audio for ``item_id``; ``origin`` is when it reached the bridge."""
        self.received_ms[item_id] = self.received_ms.get(item_id, 0) + pcm_ms(len(pcm))
        if self._partial and self._partial_item != item_id:
            self.flush()
        data = self._partial + pcm if self._partial else pcm
        self._partial_item = item_id
        whole = len(data) - len(data) % FRAME_BYTES
        for i in range(0, whole, FRAME_BYTES):
            self._queue.append(_Pending(data[i : i + FRAME_BYTES], item_id, origin))
        self._partial = data[whole:]
        self._pump()

    def flush(self) -> None:
        """End of an item: pad its last partial frame with silence and queue it."""
        if self._partial:
            pcm = self._partial + bytes(FRAME_BYTES - len(self._partial))
            self._queue.append(_Pending(pcm, self._partial_item, time.perf_counter()))
            self._partial = b""
            self._pump()

    def interrupt(self) -> Interrupted | None:
        """Barge-in: drop everything not yet sent; report what the caller heard."""
        dropped = len(self._queue)
        self._queue.clear()
        self._partial = b""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        item = self.current_item
        if item is None:
            return None
        self.current_item = None
        return Interrupted(
            item, self.played_ms.get(item, 0), self.received_ms.get(item, 0), dropped
        )

    def _pump(self) -> None:
        loop = asyncio.get_running_loop()
        while self._queue:
            now = loop.time()
            if not self._paced:
                pending = self._queue.popleft()
                self._emit(pending, now, pending.origin)
                continue
            slot = self._slot(now)
            if slot - BURST_AHEAD > now:
                if self._timer is None:
                    self._timer = loop.call_at(slot - BURST_AHEAD, self._on_timer)
                return
            # A frame held back for pacing counts its egress from when it became due.
            held = now - (slot - BURST_AHEAD)
            pending = self._queue.popleft()
            self._emit(pending, now, time.perf_counter() - held if held > 0 else pending.origin)
            self._spurt_frames += 1

    def _slot(self, now: float) -> float:
        """When the next frame is due; starts a new talkspurt after an underrun."""
        if self._anchor is not None:
            slot = self._anchor + self._spurt_frames * FRAME_SECONDS
            if now - slot <= RESET_GAP:
                return slot
        self._anchor, self._spurt_frames = now, 0
        return now

    def _on_timer(self) -> None:
        self._timer = None
        self._pump()

    def _emit(self, pending: _Pending, now: float, due: float) -> None:
        if self._start is None:
            self._start = now
        # While audio is continuous, pts advances exactly one frame at a time, jitter or
        # not: a timestamp gap with no audio missing would make the caller's jitter
        # buffer conceal and grow. Only across a real silence (the wall clock ahead by
        # more than RESET_GAP) does pts jump to the wall clock, as after DTX.
        wall = round((now - self._start) * OPUS_CLOCK / FRAME_SAMPLES_48K) * FRAME_SAMPLES_48K
        following = self._pts + FRAME_SAMPLES_48K
        self._pts = wall if wall - following > RESET_GAP * OPUS_CLOCK else following
        origin = max(pending.origin, due)
        frame = EncodedFrame(self._encoder.encode(pending.pcm), self._pts, origin)
        self.current_item = pending.item_id
        self.played_ms[pending.item_id] = self.played_ms.get(pending.item_id, 0) + 20
        self.frames_published += 1
        self._publisher.publish(frame)
        if self._on_published is not None:
            self._on_published(frame)

    def close(self) -> None:
        self._queue.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
