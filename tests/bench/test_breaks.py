"""The bench's verdict on a step: which quality limits it broke (a pure function)."""

from __future__ import annotations

from typing import Any

from edgevoice.bench.ramp import Limits, breaks

LIMITS = Limits(ingress_p99_ms=5.0, rtt_p99_ms=150.0)


def _step(**changes: Any) -> dict[str, Any]:
    step: dict[str, Any] = {
        "n": 10,
        "connected": 10,
        "lost_total": 0,
        "ingress_ms": {"p99": 0.4},
        "rtt_ms": {"count": 60, "p99": 30.0},
        "probes": 6,
    }
    step.update(changes)
    return step


def test_a_clean_step_passes() -> None:
    assert breaks(_step(), LIMITS) == []


def test_each_limit_is_named() -> None:
    assert breaks(_step(connected=8), LIMITS) == ["2 peers failed to connect"]
    assert breaks(_step(lost_total=3), LIMITS) == ["3 frames lost"]
    assert breaks(_step(ingress_ms={"p99": 6.1}), LIMITS) == ["ingress p99 6.1 ms > 5.0"]
    assert breaks(_step(rtt_ms={"count": 60, "p99": 151.0}), LIMITS) == [
        "echo RTT p99 151.0 ms > 150.0"
    ]


def test_probes_that_heard_nothing_break_the_round_trip_bound() -> None:
    silent = _step(rtt_ms={"count": 0, "p99": None})
    assert breaks(silent, LIMITS) == ["echo RTT unmeasured: no probe heard its chirp come back"]
    # with no probes there was nothing to hear: no verdict on the round trip
    assert breaks(_step(rtt_ms={"count": 0, "p99": None}, probes=0), LIMITS) == []
