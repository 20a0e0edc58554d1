"""The SFU's frame contract: what flows between publishers and subscribers.

Everything that moves audio inside a node speaks these few names. A frame is one
encoded Opus packet (20 ms); nothing here decodes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar, Protocol

OPUS_CLOCK = 48_000
FRAME_SAMPLES_48K = 960


@dataclass(slots=True, frozen=True)
class EncodedFrame:
    """One Opus packet, shared read-only by every subscriber it is fanned out to.

    ``pts`` counts 48 kHz samples from the start of the stream (aiortc's sender turns it
    into RTP timestamps). ``origin`` is a ``time.perf_counter()`` reading of when the
    frame's content entered this node (RTP arrival for caller audio, model audio arrival
    for replies): the per-hop latency figures are measured from it.
    """

    data: bytes
    pts: int
    origin: float
    time_base: ClassVar[Fraction] = Fraction(1, OPUS_CLOCK)

    def __bytes__(self) -> bytes:
        return self.data


class FrameSink(Protocol):
    """Anything that takes frames from a publication: the bridge, a listener's track."""

    def on_frame(self, frame: EncodedFrame) -> None:
        """Called on the event loop for each frame, in order; must not block."""

    def on_end(self) -> None:
        """The publication ended; no more frames will come."""


class FrameSource(Protocol):
    """A publication that sinks can attach to."""

    def subscribe(self, sink: FrameSink) -> None: ...

    def unsubscribe(self, sink: FrameSink) -> None: ...


class FramePublisher(FrameSource, Protocol):
    """A publication that someone (the bridge) feeds."""

    def publish(self, frame: EncodedFrame) -> None: ...
