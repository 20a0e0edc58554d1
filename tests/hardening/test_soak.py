"""The soak's pure parts: durations, the RSS slope, the share of capacity."""

from __future__ import annotations

import argparse

import pytest

from edgevoice.bench.soak import duration, sessions_for, slope_per_hour


def test_durations() -> None:
    assert duration("90") == 90 and duration("90s") == 90
    assert duration("30m") == 1800 and duration("1h30m") == 5400 and duration("1.5m") == 90
    for bad in ("", "soon", "0", "-5m"):
        with pytest.raises(argparse.ArgumentTypeError):
            duration(bad)


def test_rss_slope_per_hour() -> None:
    flat = [(t, 100.0) for t in range(0, 600, 30)]
    assert slope_per_hour(flat) == 0
    growing = [(float(t), 100.0 + t / 60) for t in range(0, 600, 30)]  # 1 MiB a minute
    assert slope_per_hour(growing) == pytest.approx(60.0)
    assert slope_per_hour([(0.0, 1.0)]) is None


def test_sessions_for_a_fraction_of_capacity() -> None:
    assert sessions_for(80, 0.8) == 64 and sessions_for(1, 0.5) == 1
