"""An outgoing audio track fed with encoded frames: aiortc packs them without encoding.

aiortc's sender sends anything that is not an ``av.Frame`` through the codec's
``pack()`` path, which reads ``bytes(frame)``, ``frame.pts`` and ``frame.time_base``.
:class:`EncodedFrame` has exactly those, so a frame fanned out to many tracks is the
same object everywhere.

With a :class:`~.rtpwriter.DirectRtpWriter` attached (``use_writer``), frames skip
aiortc's sender loop: ``on_frame`` writes them to SRTP at once, and ``recv()`` only
waits for the track to stop, so aiortc's loop never sends (one sequence space). Frames
that come before the sender has started wait in the queue and go out first.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from .frames import EncodedFrame
from .rtpwriter import DirectRtpWriter

DEFAULT_MAX_QUEUE = 25  # 500 ms: a subscriber further behind than this loses the oldest frames


class EncodedTrack(MediaStreamTrack):
    """A FrameSink that is also an aiortc track; ``recv()`` hands out queued frames."""

    kind = "audio"

    def __init__(
        self,
        *,
        max_queue: int = DEFAULT_MAX_QUEUE,
        on_sent: Callable[[EncodedFrame], None] | None = None,
    ) -> None:
        super().__init__()
        self._queue: deque[EncodedFrame] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._max_queue = max_queue
        self._on_sent = on_sent
        self._writer: DirectRtpWriter | None = None
        self.dropped = 0
        self.sent = 0

    def use_writer(self, writer: DirectRtpWriter) -> None:
        """Send through ``writer`` from now on; call before the sender starts."""
        self._writer = writer

    # FrameSink
    def on_frame(self, frame: EncodedFrame) -> None:
        if self.readyState != "live":
            return
        writer = self._writer
        if writer is not None:
            while self._queue and writer.write(self._queue[0]):
                self._sent(self._queue.popleft())
            if not self._queue and writer.write(frame):
                self._sent(frame)
                return
        if len(self._queue) >= self._max_queue:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append(frame)
        waiter = self._waiter
        if writer is None and waiter is not None and not waiter.done():
            waiter.set_result(None)

    def on_end(self) -> None:
        self.stop()

    def clear(self) -> int:
        """Drop every queued frame (barge-in); returns how many were dropped."""
        n = len(self._queue)
        self._queue.clear()
        return n

    @property
    def queued(self) -> int:
        return len(self._queue)

    def _sent(self, frame: EncodedFrame) -> None:
        self.sent += 1
        if self._on_sent is not None:
            self._on_sent(frame)

    # MediaStreamTrack
    async def recv(self) -> EncodedFrame:  # type: ignore[override]
        while not self._queue or self._writer is not None:
            if self.readyState != "live":
                raise MediaStreamError
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        frame = self._queue.popleft()
        self._sent(frame)
        return frame

    def stop(self) -> None:
        super().stop()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
