"""The probe's marker is found again after an Opus round trip, at the right place."""

from __future__ import annotations

import numpy as np

from edgevoice.bench.audio import find_markers, marker_delays, probe_packets
from edgevoice.bridge.opus import OpusDecoder


def test_markers_survive_opus_and_give_their_delay() -> None:
    packets = probe_packets() * 3
    decoder = OpusDecoder()
    pcm = np.frombuffer(b"".join(decoder.decode(p) for p in packets), np.int16)
    found = find_markers(pcm)
    assert len(found) == 3
    assert all(0 <= f % 24000 < 24000 * 0.02 for f in found)  # within a frame of the start
    sent = [0.0, 1.0, 2.0]
    arrivals = [0.030 + k * 0.020 for k in range(len(packets))]  # every frame 30 ms late
    delays = [rtt for _, rtt in marker_delays(sent, pcm, arrivals)]
    assert len(delays) == 3
    assert all(0.030 <= d < 0.050 for d in delays), delays
