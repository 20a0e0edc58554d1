"""When is a region's first-hop RTT "up"? A rule against its own recent baseline.

The rule (documented in docs/deploy.md, Operations): a result is flagged when its
first-hop RTT exceeds ``1.5 x`` the median of the same region's last 10 good results
``+ 5 ms``, once at least 3 earlier results exist. The median shrugs off a single spike;
the 5 ms floor keeps sub-millisecond loopback or LAN jitter from flagging. Every good
result joins the baseline after it is judged, flagged or not, so a lasting change
becomes the new normal after a few rounds instead of flagging forever.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Sequence

WINDOW = 10
MIN_RESULTS = 3
FACTOR = 1.5
FLOOR_MS = 5.0


def limit_ms(history: Sequence[float]) -> float | None:
    """The RTT above which a new result is flagged, or None while the baseline is short."""
    recent = list(history)[-WINDOW:]
    if len(recent) < MIN_RESULTS:
        return None
    return FACTOR * statistics.median(recent) + FLOOR_MS


def rises_above(history: Sequence[float], rtt_ms: float) -> bool:
    limit = limit_ms(history)
    return limit is not None and rtt_ms > limit


class Baselines:
    """Each region's recent first-hop RTTs, as seen by this probing process."""

    def __init__(self) -> None:
        self.history: dict[str, deque[float]] = {}

    def judge(self, region: str, rtt_ms: float) -> tuple[bool, float | None]:
        """Whether ``rtt_ms`` is above ``region``'s baseline (and the limit), then keep it."""
        history = self.history.setdefault(region, deque(maxlen=WINDOW))
        limit = limit_ms(history)
        history.append(rtt_ms)
        return (limit is not None and rtt_ms > limit), limit
