"""The ramp: which N it tries, where it stops, and what capacity it reports.

The step function is a script of verdicts (the seam the bench's real steps plug into).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edgevoice.bench.ramp import next_level, ramp


def test_listed_levels_then_the_last_stride_up_to_the_ceiling() -> None:
    levels = [10, 20, 40, 50]
    assert [next_level(levels, levels[:i], 80) for i in range(4)] == levels
    assert next_level(levels, [*levels], 80) == 60
    assert next_level(levels, [*levels, 60, 70], 80) == 80
    assert next_level(levels, [*levels, 60, 70, 80], 80) is None
    assert next_level([40], [40], 80) is None  # one level: a single step


def _script(verdicts: dict[int, dict[str, Any]]) -> Callable[[int], dict[str, Any]]:
    def step(n: int) -> dict[str, Any]:
        step = {"n": n, "breaks": [], "server_cpu_cores": 0.5, "loadgen_cpu_cores": 0.3}
        step["cores_busy"] = []
        step.update(verdicts.get(n, {}))
        return step

    return step


def _ramp(
    levels: list[int], verdicts: dict[int, dict[str, Any]], ceiling: int | None = None
) -> dict[str, Any]:
    return ramp(_script(verdicts), levels, lambda text: None, lambda step: None, ceiling=ceiling)


def test_a_hard_break_inside_the_list_ends_the_ramp() -> None:
    result = _ramp([10, 20, 30, 40], {30: {"breaks": ["12 frames lost"]}})
    assert [s["n"] for s in result["steps"]] == [10, 20, 30]
    assert (result["capacity"], result["limit"]) == (20, "12 frames lost")
    assert result["capacity_with_rtt_bound"] == 20


def test_past_the_list_while_nothing_broke_until_a_limit_does() -> None:
    result = _ramp([10, 20], {50: {"breaks": ["echo RTT p99 200 ms > 150"]}}, ceiling=100)
    assert [s["n"] for s in result["steps"]] == [10, 20, 30, 40, 50]
    # the round-trip bound broke at 50; the targets' own limits never did
    assert result["capacity_with_rtt_bound"] == 40
    assert result["limit_with_rtt_bound"] == "echo RTT p99 200 ms > 150"
    assert (result["capacity"], result["limit"]) == (50, None)


def test_not_past_the_list_once_the_round_trip_broke_inside_it() -> None:
    result = _ramp([10, 20, 30], {20: {"breaks": ["echo RTT p99 200 ms > 150"]}})
    assert [s["n"] for s in result["steps"]] == [10, 20, 30]
    assert result["capacity_with_rtt_bound"] == 10 and result["capacity"] == 30


def test_a_saturated_load_generator_ends_the_extension() -> None:
    result = _ramp([100, 200], {400: {"loadgen_cpu_cores": 0.97}}, ceiling=1000)
    assert [s["n"] for s in result["steps"]] == [100, 200, 300, 400]
    assert result["capacity"] == 400  # it passed: the server broke nothing
    assert "load generator saturated at N=400" in result["limit"]


def test_the_ceiling_bounds_the_extension() -> None:
    result = _ramp([10, 20], {})
    assert [s["n"] for s in result["steps"]] == [10, 20, 30, 40]  # twice the last level
    assert result["capacity"] == 40 and result["limit"] is None
