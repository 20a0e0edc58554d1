"""`edgevoice bench --smoke`: the bench runs end to end and frames flow without loss.

No timing assertions: the machine is shared. The bench runs as a subprocess because
it pins its own CPU affinity and forks its load-generator processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(90)
def test_smoke_bench_reports_flowing_frames_without_loss(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "edgevoice",
            "bench",
            "--smoke",
            "--out",
            str(tmp_path),
            "--server-core",
            "none",
            "--loadgen-core",
            "none",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=80,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads((tmp_path / "bench-smoke.json").read_text())
    assert {"machine", "versions", "config", "echo", "fanout", "ratios"} <= report.keys()
    calibration = report["machine"]["calibration"]
    assert calibration["srtp_protect_us"] > 0 and calibration["loopback_sendto_us"] > 0
    assert "SRTP protect" in done.stdout

    echo = report["echo"]["edgevoice"]
    assert echo["capacity"] == 2, echo
    (step,) = echo["steps"]
    assert step["connected"] == 2
    assert step["frames_sent"] > 50 and step["frames_back"] > 50
    assert step["lost_total"] == 0, step
    assert step["server_cpu_cores"] > 0 and step["server_rss_mib"] > 0
    assert step["ingress_ms"]["count"] > 0 and step["ingress_ms"]["p99"] is not None
    assert step["egress_ms"]["p99"] is not None
    assert step["rtt_ms"]["count"] > 0, "the probe found none of its markers in the echo"
    assert step["breaks"] == []

    fanout = report["fanout"]["edgevoice"]
    (step,) = fanout["steps"]
    assert step["streams"] == 4
    assert step["frames_heard"] == step["frames_expected"] > 0
    assert step["lost_total"] == 0, step
    assert "echo sessions, edgevoice" in done.stdout


@pytest.mark.timeout(30)
def test_a_running_target_without_its_api_key_is_refused_with_a_reason() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "edgevoice", "bench", "--target", "http://127.0.0.1:9"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=25,
        env={k: v for k, v in os.environ.items() if k != "EDGEVOICE_API_KEY"},
    )
    assert done.returncode == 2
    assert "--api-key" in done.stderr and "EDGEVOICE_API_KEY" in done.stderr
