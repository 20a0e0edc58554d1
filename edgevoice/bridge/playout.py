"""The reply's way out: model PCM in any chunk size → paced 20 ms Opus frames.

Each 20 ms of reply is encoded once and published once (the SFU fans it out). A
frame goes out as soon as its slot comes: audio that arrives in real time (the echo
model) leaves at once, a burst (TTS faster than real time) is paced at 20 ms so the
caller's jitter buffer is not flooded. Each frame leaves at its own slot, not ahead
of it: what is already sent still plays after a barge-in. Until a frame is encoded it
can be dropped: barge-in clears the queue and learns how much of the item the caller
heard. Playout can also be paused (the caller seems to speak, the model has not said
so yet) and resumed where it paused.
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
BURST_AHEAD = 0.0  # how far ahead of real time a frame may leave (it still plays after a stop)
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
        lead: float = BURST_AHEAD,
        on_item_played: Callable[[str], None] | None = None,
    ) -> None:
        self._paced = paced
        self._lead = lead
        self._on_item_played = on_item_played
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
        self._ended: set[str] = set()  # items whose audio is complete (AudioDone)
        self._busy_until = 0.0  # loop time when the last sent frame has played
        self._done_timer: asyncio.TimerHandle | None = None
        self.paused = False
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

    def flush(self, item_id: str | None = None) -> None:
        """End of an item: pad its last partial frame with silence and queue it."""
        if item_id is not None:
            self._ended.add(item_id)
        if self._partial:
            pcm = self._partial + bytes(FRAME_BYTES - len(self._partial))
            self._queue.append(_Pending(pcm, self._partial_item, time.perf_counter()))
            self._partial = b""
            self._pump()
        self._check_played()

    @property
    def playing(self) -> bool:
        """Whether reply audio is queued, being sent, or still playing at the caller.

        An item whose audio has not ended (no ``AudioDone`` yet) stays playing for
        ``RESET_GAP`` past its last frame: an underrun between two sentences is not
        the end of the reply.
        """
        if self._queue or self._partial or self.paused:
            return True
        if self.current_item is None:
            return False
        grace = 0.0 if self.current_item in self._ended else RESET_GAP
        return asyncio.get_running_loop().time() < self._busy_until + grace

    def interrupt(self) -> Interrupted | None:
        """Barge-in: drop everything not yet sent; report what the caller heard.

        None when no reply is playing: a finished item is not interrupted again.
        """
        playing = self.playing
        dropped = len(self._queue)
        self._queue.clear()
        self._partial = b""
        self.paused = False
        self._cancel_timers()
        item = self.current_item
        self.current_item = None
        if item is None or not playing:
            return None
        self._ended.discard(item)
        return Interrupted(
            item, self.played_ms.pop(item, 0), self.received_ms.pop(item, 0), dropped
        )

    def pause(self) -> bool:
        """Stop sending (the queue is kept); True if a reply was playing."""
        if self.paused or not self.playing:
            return False
        self.paused = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        return True

    def resume(self) -> None:
        """Go on where ``pause`` stopped, as a new talkspurt."""
        if not self.paused:
            return
        self.paused = False
        self._anchor = None
        self._pump()
        self._check_played()

    def _cancel_timers(self) -> None:
        for timer in (self._timer, self._done_timer):
            if timer is not None:
                timer.cancel()
        self._timer = self._done_timer = None

    def _check_played(self) -> None:
        """Tell ``on_item_played`` once an ended item's last frame has played."""
        item = self.current_item
        if (
            item is None
            or item not in self._ended
            or self._queue
            or self._partial
            or self.paused
            or self._done_timer is not None
        ):
            return
        loop = asyncio.get_running_loop()
        self._done_timer = loop.call_at(max(self._busy_until, loop.time()), self._item_played)

    def _item_played(self) -> None:
        self._done_timer = None
        item = self.current_item
        if item is None or self._queue or self.paused:
            return
        self.current_item = None
        self._ended.discard(item)
        self.played_ms.pop(item, None)
        self.received_ms.pop(item, None)
        if self._on_item_played is not None:
            self._on_item_played(item)

    def _pump(self) -> None:
        if self.paused:
            return
        loop = asyncio.get_running_loop()
        while self._queue:
            now = loop.time()
            if not self._paced:
                pending = self._queue.popleft()
                self._emit(pending, now, pending.origin)
                continue
            slot = self._slot(now)
            if slot - self._lead > now:
                if self._timer is None:
                    self._timer = loop.call_at(slot - self._lead, self._on_timer)
                return
            # A frame held back for pacing counts its egress from when it became due.
            held = now - (slot - self._lead)
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
        self._check_played()

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
        if self.current_item != pending.item_id and self.current_item is not None:
            self._ended.discard(self.current_item)
        self.current_item = pending.item_id
        self._busy_until = max(self._busy_until, now) + FRAME_SECONDS
        self.played_ms[pending.item_id] = self.played_ms.get(pending.item_id, 0) + 20
        self.frames_published += 1
        self._publisher.publish(frame)
        if self._on_published is not None:
            self._on_published(frame)

    def close(self) -> None:
        self._queue.clear()
        self._cancel_timers()
