"""The media plane's fault counters, process-wide, and a rate-limited log line.

Faults on the hot path (a malformed datagram, a subscriber that raises) are counted
here rather than logged one by one: anyone can send datagrams to a media port, and a
log line with a traceback per packet fills a disk. ``snapshot()`` is what a metrics
endpoint reads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass


@dataclass
class MediaCounters:
    datagrams_malformed: int = 0  # a datagram the ICE/DTLS stack could not parse
    datagrams_foreign: int = 0  # non-STUN data from an address no ICE check vouched for
    sink_failures: int = 0  # a fan-out subscriber raised; its call ended


COUNTERS = MediaCounters()


def snapshot() -> dict[str, int]:
    """The counters now, by name (monotonic since the process started)."""
    return asdict(COUNTERS)


class RateLimitedLog:
    """At most one line per ``interval`` seconds; the next line says how many it held back."""

    def __init__(
        self,
        logger: logging.Logger,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._interval = interval
        self._clock = clock
        self._last: float | None = None
        self.suppressed = 0

    def warning(self, message: str, *args: object) -> bool:
        """Log ``message`` unless a line went out within the interval; True if logged."""
        now = self._clock()
        if self._last is not None and now - self._last < self._interval:
            self.suppressed += 1
            return False
        self._last = now
        if self.suppressed:
            message += " (%d more like it since the last report)"
            args = (*args, self.suppressed)
            self.suppressed = 0
        self._logger.warning(message, *args)
        return True
