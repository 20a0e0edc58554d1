"""RTCP sender reports at RFC 3550's pace instead of aiortc's one a second.

aiortc's ``RTCRtpSender`` sends an SR (with an SDES CNAME) every 0.5 to 1.5 s. RFC 3550
§6.2 recommends 5 s as the minimum interval, and browsers' audio senders report about
every 5 s. On a node forwarding to hundreds of listeners those reports are most of
the per-listener cost that is not media (250 idle listeners cost 0.11 cores, about
half of it building, protecting and sending SRs), so edgevoice's own senders (the
ones a :class:`~.rtpwriter.DirectRtpWriter` feeds) report at the RFC's pace: the first
report early, as aiortc does, so a receiver learns the NTP/RTP mapping and round trip
soon, then every ``interval`` * [0.5, 1.5] s.

The reports carry what ``info`` says (the writer's counts, and the NTP and RTP times
of its last packet), and the bookkeeping aiortc needs for its round-trip estimate and for
``stop()`` (the started and exited events, the last report's middle NTP bits and time)
is kept in the sender's private fields (aiortc 1.16, pinned in pyproject).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any

from aiortc import RTCRtpSender
from aiortc.rtp import (
    AnyRtcpPacket,
    RtcpByePacket,
    RtcpSdesPacket,
    RtcpSenderInfo,
    RtcpSourceInfo,
    RtcpSrPacket,
)

REPORT_INTERVAL = 5.0  # seconds, RFC 3550's recommended minimum
FIRST_REPORT = 1.0  # seconds (* [0.5, 1.5]), as early as aiortc's first
_PREFIX = "_RTCRtpSender__"
_SDES_CNAME = 1


def jittered(interval: float, draw: float) -> float:
    """``interval`` spread over [0.5, 1.5] * interval by ``draw`` in [0, 1) (RFC 3550 §6.3.1)."""
    return interval * (0.5 + draw)


def sender_report(sender: RTCRtpSender, info: RtcpSenderInfo) -> list[AnyRtcpPacket]:
    """The SR (and SDES CNAME) for ``sender``; notes what its RTT estimate needs."""
    state: dict[str, Any] = sender.__dict__
    packets: list[AnyRtcpPacket] = [RtcpSrPacket(ssrc=sender._ssrc, sender_info=info)]
    # a receiver echoes the middle 32 bits of the SR's NTP time (LSR) in its reports
    state[_PREFIX + "lsr"] = (info.ntp_timestamp >> 16) & 0xFFFFFFFF
    state[_PREFIX + "lsr_time"] = time.time()
    cname = state.get(_PREFIX + "cname")
    if cname is not None:
        source = RtcpSourceInfo(ssrc=sender._ssrc, items=[(_SDES_CNAME, cname.encode())])
        packets.append(RtcpSdesPacket(chunks=[source]))
    return packets


async def _report(
    sender: RTCRtpSender, info: Callable[[], RtcpSenderInfo], interval: float, first: float
) -> None:
    state: dict[str, Any] = sender.__dict__
    state[_PREFIX + "rtcp_started"].set()
    try:
        await asyncio.sleep(jittered(first, random.random()))
        while True:
            await sender._send_rtcp(sender_report(sender, info()))
            await asyncio.sleep(jittered(interval, random.random()))
    except asyncio.CancelledError:
        pass
    await sender._send_rtcp([RtcpByePacket(sources=[sender._ssrc])])
    state[_PREFIX + "rtcp_exited"].set()
    # the loop held the sender (and the writer behind ``info``) in a cycle; end it, so
    # refcounting frees them rather than a full collection later
    state.pop("_run_rtcp", None)


def pace_sender_reports(
    sender: RTCRtpSender,
    info: Callable[[], RtcpSenderInfo],
    interval: float = REPORT_INTERVAL,
    first: float = FIRST_REPORT,
) -> None:
    """From ``sender.send()`` on, report after ``first`` then every ``interval`` (* [0.5, 1.5]).

    Call before the sender starts: ``send()`` starts whatever ``_run_rtcp`` is then.
    """

    async def run_rtcp() -> None:
        await _report(sender, info, interval, first)

    sender._run_rtcp = run_rtcp  # type: ignore[method-assign]
