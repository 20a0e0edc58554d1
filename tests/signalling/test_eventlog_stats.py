"""An event log keeps a call's history but only its latest stats (memory per call)."""

from __future__ import annotations

from edgevoice.node.eventlog import STATS_KEPT, EventLog


def test_only_the_latest_stats_are_kept_and_order_holds() -> None:
    log = EventLog(keep=500)
    log.append({"type": "state", "state": "connected"})
    for i in range(600):  # ten minutes of a call
        log.append({"type": "stats", "i": i, "bridge": {"big": list(range(50))}})
        if i % 100 == 0:
            log.append({"type": "transcript", "text": f"turn {i}"})
    kept = log.recent()
    stats = [e for e in kept if e["type"] == "stats"]
    assert [e["i"] for e in stats] == list(range(600 - STATS_KEPT, 600))
    assert kept[0]["type"] == "state" and sum(e["type"] == "transcript" for e in kept) == 6
    assert [e["seq"] for e in kept] == sorted(e["seq"] for e in kept)
    reader = log.reader()
    log.append({"type": "stats", "i": 600})
    assert len(reader._items) == len(kept) + 1  # replayed, then every live event
