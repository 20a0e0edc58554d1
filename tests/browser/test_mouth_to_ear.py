"""The mouth-to-ear harness: its pure parts, and short real runs against echo servers.

No timing thresholds here: only that every burst came back, once, with a latency that
a loopback echo can have (positive, under a second).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgevoice.bench import mouth_to_ear as m2e

from .conftest import CHROMIUM, ROOT, Server, run_server

API_KEY = "evk_mouth_to_ear_test_key_0123456789abcdef"


def test_match_onsets_pairs_each_burst_with_its_first_echo() -> None:
    sent = [1.0, 1.5, 2.0, 2.5]
    onsets = [1.08, 1.09, 1.58, 0.5, 2.59, 3.4]  # a double, one before any burst, a late one
    latencies, spurious = m2e.match_onsets(sent, onsets, window_s=0.45)
    assert latencies[0] == pytest.approx(0.08)
    assert latencies[1] == pytest.approx(0.08)
    assert latencies[2] is None
    assert latencies[3] == pytest.approx(0.09)
    assert spurious == 3  # 1.09 (second onset for burst 0), 0.5, 3.4 (past the window)


def test_summarise_and_percentiles() -> None:
    assert m2e.summarise([])["count"] == 0
    summary = m2e.summarise([40.0, 10.0, 30.0, 20.0])
    assert summary["count"] == 4
    assert summary["min"] == 10.0
    assert summary["max"] == 40.0
    assert summary["p50"] == 25.0
    assert summary["mean"] == 25.0
    assert m2e.percentile([1.0, 2.0, 3.0], 100) == 3.0


def test_offer_keeps_only_loopback_candidates() -> None:
    offer = (
        "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
        "a=candidate:1 1 udp 2122260223 192.168.1.20 50000 typ host generation 0\r\n"
        "a=candidate:2 1 udp 2122194687 127.0.0.1 50001 typ host generation 0\r\n"
        "a=candidate:3 1 udp 2122194687 abc.local 50002 typ host generation 0\r\n"
        "a=candidate:4 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active\r\n"
    )
    kept = [line for line in m2e.loopback_only(offer).splitlines() if "candidate" in line]
    assert len(kept) == 2
    assert all(" 127.0.0.1 " in line for line in kept)


def test_dither_is_reproducible_and_inside_one_frame() -> None:
    cfg = m2e.Settings(seed=7)
    first, again = m2e.dither(cfg, 50), m2e.dither(cfg, 50)
    assert first == again
    assert all(0 <= d < 0.020 for d in first)


def test_refuses_a_non_loopback_url() -> None:
    with pytest.raises(ValueError, match="loopback"):
        m2e.measure("http://192.0.2.1:8080", settings=m2e.Settings(bursts=1))


def check(result: dict[str, object], bursts: int) -> None:
    assert result["bursts"] == bursts
    assert result["detected"] == bursts, result
    assert result["missed"] == []
    latencies = result["latencies_ms"]
    assert isinstance(latencies, list)
    assert len(latencies) == bursts
    assert all(lat is not None and 0 < lat < 1000 for lat in latencies), latencies
    summary = result["mouth_to_ear_ms"]
    assert isinstance(summary, dict)
    assert set(summary) >= {"count", "p50", "p90", "p99", "min", "max"}
    assert summary["count"] == bursts
    assert summary["min"] <= summary["p50"] <= summary["p90"] <= summary["p99"] <= summary["max"]
    browser = result["browser"]
    assert isinstance(browser, dict)
    assert browser["sample_rate"] > 0
    server = result["server"]
    assert isinstance(server, dict)
    assert server["egress_ms"]["count"] > 0  # the node's own figures came over the channel


@pytest.mark.browser
def test_cli_starts_its_own_echo_server(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed")
    out = tmp_path / "m2e.json"
    command = [sys.executable, "-m", "edgevoice.bench.mouth_to_ear",
               "--bursts", "4", "--warmup", "1", "--json", str(out)]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "mouth-to-ear" in done.stdout
    assert "p50" in done.stdout
    result = json.loads(out.read_text())
    check(result, 4)
    assert result["url"].startswith("http://127.0.0.1:")


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("m2e-server") / "edgevoice.log"
    with run_server("echo", log, env={"EDGEVOICE_API_KEY": API_KEY}) as running:
        yield running


@pytest.mark.browser
def test_measure_with_the_session_api_key(keyed_server: Server) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed")
    pytest.importorskip("playwright.sync_api")
    cfg = m2e.Settings(bursts=3, warmup=1)
    result = m2e.measure(keyed_server.url, api_key=API_KEY, settings=cfg)
    check(result, 3)
    assert result["session"].startswith("sess_")
    deadline = time.monotonic() + 10  # the harness hung up with DELETE: the node lets go
    while (sessions := keyed_server.ready()["sessions"]) != 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sessions == 0
