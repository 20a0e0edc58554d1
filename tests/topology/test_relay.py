"""The relay in the POP topology: two nodes behind one relay in the core; aiortc callers
whose offers carry no candidates reach them only through it, and their calls go on
across a relay restart (flows restored from Redis)."""

from __future__ import annotations

import json
import re
import signal
import sys
from typing import Any

from .pops import Proc, Topology


def ask(caller: Proc, command: str, count: int) -> dict[str, Any]:
    """Send ``command`` to a holding caller; its ``count``-th status line."""
    assert caller.popen.stdin is not None
    caller.popen.stdin.write(f"{command}\n".encode())
    caller.popen.stdin.flush()
    answer: dict[str, Any] = json.loads(caller.wait_count('"packets"', count, 30)[-1])
    return answer


def test_callers_through_one_relay_survive_its_restart(pops: Topology) -> None:
    hold = [sys.executable, "-m", "tests.topology.client", "hold", pops.signalling_url,
            "--region", "hub"]  # fmt: skip
    callers: list[Proc] = []
    try:
        connected = []
        for i in (1, 2):  # one after the other: the second sees the first's slot taken
            callers.append(pops.spawn(f"hold-{i}", "caller", *hold, stdin=True))
            connected.append(json.loads(callers[-1].wait_for('"connected"', 40)))
        assert {c["node"]["id"] for c in connected} == {"hub-1", "hub-2"}
        relay_candidate = (
            f"a=candidate:relay 1 udp 2130706431 {pops.relay_address.replace(':', ' ')} typ host"
        )
        for c in connected:
            assert c["candidates"] == [relay_candidate], c
        before = [ask(c, "wait 50", 1) for c in callers]  # a second of echo each
        assert all(b["packets"] >= 50 and b["state"] == "connected" for b in before), before

        assert pops.procs["relay"].stop(signal.SIGTERM) == 0
        restarted = pops.start_relay()
        ready = restarted.wait_for("edgevoice relay ready", 30)
        restored = re.search(r"\((\d+) flows restored", ready)
        assert restored and int(restored.group(1)) >= 2, ready  # (and any earlier test's)
        after = [ask(c, "wait 100", 2) for c in callers]  # two more seconds of echo
        for b, a in zip(before, after, strict=True):
            assert a["packets"] >= b["packets"] + 100 and a["state"] == "connected", (b, a)
    finally:
        for caller in callers:
            if caller.popen.stdin is not None:
                caller.popen.stdin.close()  # EOF: hang up
            caller.stop()
