"""Sender reports of edgevoice's own senders: paced, truthful, and ended with a BYE."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.rtp import RtcpByePacket, RtcpRrPacket, RtcpSrPacket

from edgevoice.sfu.frames import EncodedFrame
from edgevoice.sfu.rtpwriter import NTP_EPOCH_OFFSET, DirectRtpWriter
from edgevoice.sfu.senderreports import jittered, pace_sender_reports
from edgevoice.sfu.tap import tap_receiver
from edgevoice.sfu.track import EncodedTrack
from tests import conftest  # noqa: F401  (loopback-only media address)


def test_intervals_spread_over_half_to_one_and_a_half_times() -> None:
    assert jittered(5.0, 0.0) == 2.5
    assert jittered(5.0, 0.5) == 5.0
    assert jittered(5.0, 0.999) == pytest.approx(7.495)


def _watch(
    target: Any, kinds: tuple[type, ...], seen: list[Any], enough: asyncio.Event, n: int
) -> None:
    """Record the RTCP packets of ``kinds`` that ``target`` handles; set ``enough`` at ``n``."""
    handle = target._handle_rtcp_packet

    async def watched(packet: Any) -> None:
        if isinstance(packet, kinds):
            seen.append(packet)
            if len(seen) >= n:
                enough.set()
        await handle(packet)

    target._handle_rtcp_packet = watched


async def test_reports_count_what_was_sent_and_a_bye_ends_them() -> None:
    sender_pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    receiver_pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    track = EncodedTrack()
    transceiver = sender_pc.addTransceiver(track, direction="sendonly")
    writer = DirectRtpWriter(transceiver)  # paces at the RFC's 5 s ...
    track.use_writer(writer)
    sender = transceiver.sender
    # ... made quick for the test
    pace_sender_reports(sender, writer.sender_info, interval=0.1, first=0.1)
    reports: list[RtcpSrPacket] = []
    three = asyncio.Event()
    byes: list[RtcpByePacket] = []
    bye = asyncio.Event()
    answers: list[RtcpRrPacket] = []
    answered = asyncio.Event()
    flowing = asyncio.Event()
    try:
        await sender_pc.setLocalDescription(await sender_pc.createOffer())
        await receiver_pc.setRemoteDescription(sender_pc.localDescription)
        receiver = receiver_pc.getTransceivers()[0].receiver
        heard: set[int] = set()

        def on_packet(packet: Any, arrival: float) -> None:
            heard.add(packet.timestamp)
            flowing.set()

        tap_receiver(receiver, on_packet)
        _watch(receiver, (RtcpSrPacket,), reports, three, 3)
        _watch(sender, (RtcpRrPacket,), answers, answered, 1)
        await receiver_pc.setLocalDescription(await receiver_pc.createAnswer())
        await sender_pc.setRemoteDescription(receiver_pc.localDescription)
        async with asyncio.timeout(10):
            pts = 0
            while not three.is_set():  # a frame every 10 ms until three reports came
                track.on_frame(EncodedFrame(b"\xf8\x00\x01", pts, 0.0))
                pts += 960
                await asyncio.sleep(0.01)
            await flowing.wait()
        assert all(r.ssrc == sender._ssrc for r in reports)
        counts = [r.sender_info.packet_count for r in reports]
        assert counts == sorted(counts) and 0 < counts[-1] <= writer.packets
        stamps = [r.sender_info.ntp_timestamp for r in reports]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
        # NTP time of a packet that was sent (wall clock) and that packet's RTP time
        assert abs(stamps[-1] / 2**32 - NTP_EPOCH_OFFSET - time.time()) < 2.0
        assert {r.sender_info.rtp_timestamp for r in reports} <= heard
        # the receiver echoes a report back, and aiortc's round-trip estimate takes it
        async with asyncio.timeout(10):
            await answered.wait()
        stats = (await sender.getStats()).values()
        rtt = [s.roundTripTime for s in stats if s.type == "remote-inbound-rtp"]
        assert rtt and 0 <= rtt[0] < 1.0
        _watch(receiver, (RtcpByePacket,), byes, bye, 1)
        async with asyncio.timeout(10):
            await sender_pc.close()  # stop() waits for the report loop to exit
            await bye.wait()
        assert byes[0].sources == [sender._ssrc]
        assert "_run_rtcp" not in sender.__dict__  # no cycle left through the report loop
    finally:
        track.stop()
        await sender_pc.close()
        await receiver_pc.close()
