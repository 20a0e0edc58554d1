"""An outgoing audio track fed with encoded frames: aiortc packs them without encoding.

aiortc's sender sends anything that is not an ``av.Frame`` through the codec's
``pack()`` path, which reads ``bytes(frame)``, ``frame.pts`` and ``frame.time_base``.
:class:`EncodedFrame` has exactly those, so a frame fanned out to many tracks is the
same object everywhere.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from .frames import EncodedFrame

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
        self.dropped = 0
        self.sent = 0

    # FrameSink
    def on_frame(self, frame: EncodedFrame) -> None:
        if self.readyState != "live":
            return
        if len(self._queue) >= self._max_queue:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append(frame)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
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

    # MediaStreamTrack
    async def recv(self) -> EncodedFrame:  # type: ignore[override]
        while not self._queue:
            if self.readyState != "live":
                raise MediaStreamError
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        frame = self._queue.popleft()
        self.sent += 1
        if self._on_sent is not None:
            self._on_sent(frame)
        return frame

    def stop(self) -> None:
        super().stop()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
