"""The probe's pure decisions: the baseline rule, thresholds, the table."""

from __future__ import annotations

import io

from edgevoice.probe.baseline import Baselines, limit_ms, rises_above
from edgevoice.probe.cli import Options, _judge
from edgevoice.probe.result import ProbeResult, crossed, table


def test_no_flag_until_three_results() -> None:
    assert limit_ms([]) is None
    assert limit_ms([10.0, 10.0]) is None
    assert not rises_above([10.0, 10.0], 500.0)
    assert limit_ms([10.0, 10.0, 10.0]) == 20.0  # 1.5 x 10 + 5


def test_the_median_of_the_last_ten_is_the_baseline() -> None:
    history = [100.0] * 5 + [10.0] * 10  # older results fall out of the window
    assert limit_ms(history) == 20.0
    assert rises_above(history, 20.1)
    assert not rises_above(history, 20.0)
    spiky = [10.0, 10.0, 10.0, 90.0]  # one spike does not move the median
    assert limit_ms(spiky) == 20.0


def test_small_rtts_need_five_ms_more_to_flag() -> None:
    assert not rises_above([0.3, 0.4, 0.5], 4.0)
    assert rises_above([0.3, 0.4, 0.5], 6.0)


def test_baselines_are_per_region_and_learn_a_lasting_change() -> None:
    b = Baselines()
    assert [b.judge("eu", 10.0) for _ in range(4)] == [(False, None)] * 3 + [(False, 20.0)]
    assert b.judge("us", 80.0) == (False, None)  # another region has no baseline yet
    flagged, limit = b.judge("eu", 40.0)
    assert flagged and limit == 20.0
    flags = [b.judge("eu", 40.0)[0] for _ in range(10)]
    assert flags[0] and not flags[-1]  # 40 ms became the new normal


def _result(**fields: object) -> ProbeResult:
    base: dict[str, object] = {"target": "http://127.0.0.1:1", "t": 0.0, "ok": True,
                               "region": "eu", "node": "eu-1", "setup_ms": 50.0,
                               "rtt_ms": 2.0, "echo_rtt_ms": 15.0}  # fmt: skip
    return ProbeResult(**{**base, **fields})  # type: ignore[arg-type]


def test_thresholds_and_unmeasured_figures() -> None:
    assert crossed(_result(), None, None) == []
    assert crossed(_result(), 5.0, 100.0) == []
    assert crossed(_result(rtt_ms=7.5), 5.0, None) == ["first-hop RTT 7.5 ms > --max-rtt-ms 5"]
    assert crossed(_result(setup_ms=250.0), None, 100.0) == ["setup 250.0 ms > --max-setup-ms 100"]
    assert crossed(_result(rtt_ms=None), 5.0, None) == ["first-hop RTT not measured"]


def test_judge_flags_and_reports_in_words() -> None:
    class Args:
        every, rounds, json, max_rtt_ms, max_setup_ms = 1.0, 1, False, 30.0, None
        seconds, timeout, media_address = 5.0, 30.0, None

    options = Options(Args(), "k", ["http://127.0.0.1:1"])  # type: ignore[arg-type]
    baselines = Baselines()
    err = io.StringIO()
    for _ in range(3):
        assert _judge(_result(rtt_ms=10.0), options, baselines, err) == 0
    assert err.getvalue() == ""
    spike = _result(rtt_ms=25.0)
    assert _judge(spike, options, baselines, err) == 0  # flagged, under --max-rtt-ms
    assert spike.flagged and "region eu" in (spike.reason or "")
    assert "above its baseline limit 20.0 ms" in err.getvalue()
    assert _judge(_result(rtt_ms=31.0), options, baselines, err) == 1
    assert "threshold crossed: first-hop RTT 31.0 ms > --max-rtt-ms 30" in err.getvalue()
    failed = _result(ok=False, reason="session refused: 401")
    assert _judge(failed, options, baselines, err) == 1
    assert "probe failed: session refused: 401" in err.getvalue()


def test_table_lines_up_and_says_what_failed() -> None:
    text = table([_result(), _result(ok=False, reason="no echo heard", rtt_ms=None)])
    header, good, bad = text.splitlines()
    assert header.split()[:3] == ["target", "region", "node"]
    assert good.endswith("ok") and " 2.0 " in good
    assert bad.endswith("FAILED: no echo heard")
    column = header.index("status")
    assert good.index("ok") == column and bad.index("FAILED") == column
    assert header.index("rtt ms") + len("rtt ms") == good.index("2.0") + len("2.0")  # right-aligned
