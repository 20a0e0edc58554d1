"""Fan-out steps: one publishing caller (echo model), N WHEP listeners that never decode.

Each listener hears two streams, the caller and the agent (the echo), so a step
forwards ``2 * N`` streams. Every listener connects before the publisher's clock
starts, so each stream must deliver exactly the frames the publisher sent: anything
less is loss, wherever it happened.
"""

from __future__ import annotations

from typing import Any

from . import metrics
from .loadgen import Fleet
from .ramp import Audio, Limits, Progress, StepConfig, _measure, _spec, _split, breaks
from .servers import Target


def fanout_step(
    target: Target, n: int, audio: Audio, cfg: StepConfig, limits: Limits, progress: Progress
) -> dict[str, Any]:
    publisher = Fleet()
    listeners = Fleet()
    try:
        progress(f"  N={n}: connecting the publisher")
        published = publisher.start([_spec(target, audio, "callers", 1, 0, 0)])
        if not published["sessions"]:
            raise RuntimeError(f"the publisher did not connect: {published['errors'][:1]}")
        session = published["sessions"][0]
        progress(f"  N={n}: connecting {n} listeners")
        specs = [
            _spec(target, audio, "listeners", c, 0, 0, session)
            for c in _split(n, cfg.listeners_per_worker)
        ]
        ready = listeners.start(specs)
        both = _Both(publisher, listeners)
        figures, window = _measure(both, target, cfg, progress, n)  # type: ignore[arg-type]
    finally:
        publisher.request_stop()  # its clock stops now; listeners count after draining
        listeners.request_stop()
        heard = listeners.stop()
        sent = publisher.stop()
    connected = ready["connected"]
    expected = 2 * connected * sent.get("sent", 0)
    missing = max(0, expected - heard.get("packets", 0))
    streams = 2 * connected
    step: dict[str, Any] = {
        "n": n,
        "streams": streams,
        "connected": connected,
        "setup_errors": ready["errors"][:5],
        "server_cpu_cores": round(figures["server_cpu"], 4),
        "server_sys_cores": round(figures["server_sys"], 4),
        "cpu_per_stream": round(figures["server_cpu"] / max(1, streams), 6),
        "server_rss_mib": round(figures["server_rss"] / 2**20, 1),
        "loadgen_cpu_cores": round(figures["loadgen_cpu"], 3),
        "cores_busy": figures["cores_busy"],
        "frames_published": sent.get("sent", 0),
        "frames_expected": expected,
        "frames_heard": heard.get("packets", 0),
        "missing": missing,
        "listener_lost": heard.get("lost", 0),
        "listener_late": heard.get("late", 0),
        "tick_lag_ms": metrics.percentiles(window.get("tick_lag_s", [])),
    }
    step["lost_total"] = missing + step["listener_lost"] + step["listener_late"]
    step["breaks"] = breaks(step, limits)
    return step


class _Both:
    """The two fleets measured as one (the publisher's clock drives every listener)."""

    def __init__(self, publisher: Fleet, listeners: Fleet) -> None:
        self._fleets = (publisher, listeners)

    @property
    def pids(self) -> list[int]:
        return [p for f in self._fleets for p in f.pids]

    def go(self) -> None:
        self._fleets[0].go()

    def snapshot(self) -> dict[str, Any]:
        return self._fleets[0].snapshot()
