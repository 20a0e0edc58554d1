"""aiortc's statistics in W3C units, as plain dicts ready for JSON.

aiortc reports inbound jitter in RTP clock units, ``fractionLost`` as the raw 0-255
byte and RTT only on a sending leg (from the peer's receiver reports). These helpers
turn a report into seconds and 0-1 ratios.
"""

from __future__ import annotations

from typing import Any

from aiortc import RTCPeerConnection
from aiortc.stats import (
    RTCInboundRtpStreamStats,
    RTCOutboundRtpStreamStats,
    RTCRemoteInboundRtpStreamStats,
)

from .frames import OPUS_CLOCK


def inbound_stats(stat: RTCInboundRtpStreamStats) -> dict[str, Any]:
    return {
        "packets": stat.packetsReceived,
        "packets_lost": max(stat.packetsLost, 0),
        "jitter_seconds": stat.jitter / OPUS_CLOCK,
    }


def outbound_stats(
    stat: RTCOutboundRtpStreamStats, remote: RTCRemoteInboundRtpStreamStats | None
) -> dict[str, Any]:
    out: dict[str, Any] = {"packets": stat.packetsSent, "bytes": stat.bytesSent}
    if remote is not None:
        out["rtt_seconds"] = remote.roundTripTime
        out["fraction_lost"] = remote.fractionLost / 256
        out["remote_packets_lost"] = remote.packetsLost
        out["remote_jitter_seconds"] = remote.jitter / OPUS_CLOCK
    return out


async def peer_stats(pc: RTCPeerConnection) -> dict[str, Any]:
    """Inbound and outbound audio figures of one peer connection, normalised."""
    report = await pc.getStats()
    inbound: list[dict[str, Any]] = []
    outbound: list[dict[str, Any]] = []
    # aiortc files a receiver report under the reporter's SSRC, not ours; each of our
    # peer connections has one audio sender per transceiver, matched here in order.
    remotes = [s for s in report.values() if isinstance(s, RTCRemoteInboundRtpStreamStats)]
    for stat in report.values():
        if isinstance(stat, RTCInboundRtpStreamStats):
            inbound.append(inbound_stats(stat))
        elif isinstance(stat, RTCOutboundRtpStreamStats):
            remote = remotes[len(outbound)] if len(outbound) < len(remotes) else None
            outbound.append(outbound_stats(stat, remote))
    return {"inbound": inbound, "outbound": outbound}
