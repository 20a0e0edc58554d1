"""Fan-out of encoded frames: one publisher, any number of subscribers."""

from __future__ import annotations

import logging

from .frames import EncodedFrame, FrameSink

log = logging.getLogger(__name__)


class Publication:
    """Delivers each published frame to every subscriber, in subscription order.

    The same frame object goes to all of them: no copy, no re-encode. A subscriber
    that raises is dropped rather than allowed to break the others.
    """

    def __init__(self, name: str) -> None:
        self.name = name
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
            except Exception:
                log.exception("subscriber %r of %s failed; detaching it", sink, self.name)
                self.unsubscribe(sink)

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
