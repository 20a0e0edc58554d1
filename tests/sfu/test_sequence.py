from __future__ import annotations

from edgevoice.sfu.sequence import SequenceTracker, seq_delta, ts_delta


def test_deltas_wrap_around() -> None:
    assert seq_delta(2, 65534) == 4
    assert seq_delta(65534, 2) == -4
    assert ts_delta(100, 2**32 - 860) == 960


def test_in_order_packets_get_increasing_pts_across_wraps() -> None:
    tracker = SequenceTracker()
    seq, ts = 65533, 2**32 - 1920
    pts = [tracker.accept((seq + i) % 65536, (ts + 960 * i) % 2**32) for i in range(6)]
    assert pts == [0, 960, 1920, 2880, 3840, 4800]
    assert tracker.lost == tracker.late == 0


def test_gaps_count_as_lost_and_old_packets_as_late() -> None:
    tracker = SequenceTracker()
    assert tracker.accept(10, 0) == 0
    assert tracker.accept(13, 2880) == 2880  # 11 and 12 missing: delivered at once
    assert tracker.lost == 2
    assert tracker.accept(12, 1920) is None  # arrived after a newer one: late, dropped
    assert tracker.accept(13, 2880) is None  # duplicate
    assert tracker.late == 2
    assert tracker.delivered == 2
