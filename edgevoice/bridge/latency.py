"""Per-hop latency samples kept as a bounded window, read out as percentiles."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence


def percentile(ordered: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted, non-empty sequence."""
    return ordered[round(p / 100 * (len(ordered) - 1))]


class LatencyWindow:
    """The last ``size`` samples of one hop, in seconds."""

    def __init__(self, size: int = 2048) -> None:
        self._samples: deque[float] = deque(maxlen=size)
        self.count = 0

    def record(self, seconds: float) -> None:
        self._samples.append(seconds)
        self.count += 1

    def since(self, seen: int) -> list[float]:
        """Samples recorded after the first ``seen`` (those still in the window)."""
        new = min(self.count - seen, len(self._samples))
        return list(self._samples)[-new:] if new > 0 else []

    def summary_ms(self) -> dict[str, float | int | None]:
        """Count and p50/p90/p99/max in milliseconds (rounded to 0.01 ms)."""
        if not self._samples:
            return {"count": self.count, "p50": None, "p90": None, "p99": None, "max": None}
        ordered = sorted(self._samples)
        out: dict[str, float | int | None] = {"count": self.count}
        for name, p in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100)):
            out[name] = round(percentile(ordered, p) * 1000, 2)
        return out
