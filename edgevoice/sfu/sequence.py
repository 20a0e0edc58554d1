"""In-order delivery of RTP packets without a jitter buffer.

The SFU forwards each packet the moment it arrives. A packet that is newer than
the last one delivered goes out at once (a gap counts as lost); one that is older
(reordered past its slot, or a duplicate) is dropped and counted as late. No packet
is ever held back, so no delay is added: that is the point.
"""

from __future__ import annotations

from dataclasses import dataclass

_SEQ_MOD = 1 << 16
_TS_MOD = 1 << 32


def seq_delta(new: int, old: int) -> int:
    """Signed distance between two 16-bit sequence numbers (RFC 3550 wrap-around)."""
    d = (new - old) % _SEQ_MOD
    return d - _SEQ_MOD if d >= _SEQ_MOD // 2 else d


def ts_delta(new: int, old: int) -> int:
    """Signed distance between two 32-bit RTP timestamps."""
    d = (new - old) % _TS_MOD
    return d - _TS_MOD if d >= _TS_MOD // 2 else d


@dataclass(slots=True)
class SequenceTracker:
    """Decides, per packet, whether to deliver it, and keeps loss/late counts."""

    last_seq: int | None = None
    first_ts: int = 0
    last_pts: int = 0
    delivered: int = 0
    lost: int = 0
    late: int = 0

    def accept(self, seq: int, timestamp: int) -> int | None:
        """Return the packet's pts (48 kHz units from the first packet), or None to drop."""
        if self.last_seq is None:
            self.last_seq = seq
            self.first_ts = timestamp
            self.delivered = 1
            return 0
        d = seq_delta(seq, self.last_seq)
        if d <= 0:
            self.late += 1
            return None
        self.lost += d - 1
        self.last_seq = seq
        self.delivered += 1
        pts = self.last_pts + ts_delta(timestamp, (self.first_ts + self.last_pts) % _TS_MOD)
        if pts < self.last_pts:  # a sender that stepped its clock backwards: keep pts monotonic
            pts = self.last_pts
        self.last_pts = pts
        return pts
