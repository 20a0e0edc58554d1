"""Fan-out of encoded frames: one publisher, any number of subscribers."""

from __future__ import annotations

import logging
from collections.abc import Callable

from .counters import COUNTERS
from .frames import EncodedFrame, FrameSink

log = logging.getLogger(__name__)

SinkFailed = Callable[[FrameSink, Exception], None]


class Publication:
    """Delivers each published frame to every subscriber, in subscription order.

    The same frame object goes to all of them: no copy, no re-encode. A subscriber
    that raises is detached (the others still get the frame), counted, and reported to
    ``on_failure``: a sink that raises is a bug (a broken hook into aiortc, say), and
    its owner ends the call rather than let it go on with audio missing.
    """

    def __init__(self, name: str, *, on_failure: SinkFailed | None = None) -> None:
        self.name = name
        self._on_failure = on_failure
        self._sinks: tuple[FrameSink, ...] = ()
        self.frames = 0
        self.bytes = 0
        self.ended = False

    @property
    def subscribers(self) -> int:
        return len(self._sinks)

    def subscribe(self, sink: FrameSink) -> None:
        if self.ended:
            sink.on_end()
            return
        if sink not in self._sinks:
            self._sinks = (*self._sinks, sink)

    def unsubscribe(self, sink: FrameSink) -> None:
        self._sinks = tuple(s for s in self._sinks if s is not sink)

    def publish(self, frame: EncodedFrame) -> None:
        self.frames += 1
        self.bytes += len(frame.data)
        for sink in self._sinks:
            try:
                sink.on_frame(frame)
            except Exception as exc:
                COUNTERS.sink_failures += 1
                log.exception("subscriber %r of %s failed; detaching it", sink, self.name)
                self.unsubscribe(sink)
                if self._on_failure is not None:
                    self._on_failure(sink, exc)

    def end(self) -> None:
        if self.ended:
            return
        self.ended = True
        sinks, self._sinks = self._sinks, ()
        for sink in sinks:
            try:
                sink.on_end()
            except Exception:
                log.exception("subscriber %r of %s failed on end", sink, self.name)
