"""The relay benchmark keeps working: a tiny run through a real relay process."""

from __future__ import annotations

import json
from pathlib import Path

from edgevoice.bench.relaybench import main


def test_relay_bench_measures_cpu_and_latency(tmp_path: Path) -> None:
    out = tmp_path / "relay.json"
    assert main(["--flows", "3", "--seconds", "1", "--out", str(out)]) == 0
    steps = {s["path"]: s for s in json.loads(out.read_text())["steps"]}
    relay, direct = steps["relay"], steps["direct"]
    assert relay["lost"] == 0 and direct["lost"] == 0
    assert relay["rtt_ms"]["count"] == relay["sent"] > 100
    assert relay["relay_us_per_packet"] > 0 and relay["relay_pps_per_core"] > 0
    assert "relay_cpu_cores" not in direct  # the direct path has no relay to measure
