"""The direct RTP writer relies on aiortc private names: this fails if it stops delivering.

A real aiortc pair on loopback: frames written by DirectRtpWriter arrive in order with
consecutive sequence numbers and timestamps that follow pts, frames queued before the
sender started go out first, and aiortc's own statistics (behind sender reports) count
what was sent, a sender-report period behind at most.
"""

from __future__ import annotations

import asyncio
import itertools

from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.rtp import RtpPacket

from edgevoice.sfu.frames import EncodedFrame
from edgevoice.sfu.rtpwriter import STATS_EVERY, DirectRtpWriter
from edgevoice.sfu.tap import tap_receiver
from edgevoice.sfu.track import EncodedTrack
from tests import conftest  # noqa: F401  (loopback-only media address)


async def test_direct_writer_sends_in_order_and_keeps_aiortc_counters() -> None:
    sender_pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    receiver_pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    track = EncodedTrack()
    transceiver = sender_pc.addTransceiver(track, direction="sendonly")
    writer = DirectRtpWriter(transceiver)
    track.use_writer(writer)
    got: list[RtpPacket] = []
    enough = asyncio.Event()
    after_silence = asyncio.Event()

    def on_packet(packet: RtpPacket, arrival: float) -> None:
        got.append(packet)
        if len(got) >= 40:
            enough.set()
        if len(got) >= 42:
            after_silence.set()

    try:
        # two frames before any connection: queued, sent first once the sender starts
        for i in range(2):
            track.on_frame(EncodedFrame(bytes([0xF8, i]), i * 960, 0.0))
        assert track.queued == 2 and track.sent == 0
        await sender_pc.setLocalDescription(await sender_pc.createOffer())
        await receiver_pc.setRemoteDescription(sender_pc.localDescription)
        tap_receiver(receiver_pc.getTransceivers()[0].receiver, on_packet)
        await receiver_pc.setLocalDescription(await receiver_pc.createAnswer())
        await sender_pc.setRemoteDescription(receiver_pc.localDescription)
        for _ in range(500):  # until the sender has started (a probe frame goes out)
            if sender_pc.connectionState == "connected" and writer.write(
                EncodedFrame(b"\xf8\xff", 0, 0.0)
            ):
                break
            await asyncio.sleep(0.02)
        # (the probe frame above went out directly; the queue is still waiting)
        for i in range(2, 40):
            track.on_frame(EncodedFrame(bytes([0xF8, i]), i * 960, 0.0))
            await asyncio.sleep(0.002)
        async with asyncio.timeout(10):
            await enough.wait()
        assert track.queued == 0 and track.sent == 40
        media = got[1:]  # after the probe frame
        assert [p.payload[1] for p in media] == list(range(40))[: len(media)]
        seqs = [p.sequence_number for p in got]
        assert all((b - a) % 65536 == 1 for a, b in itertools.pairwise(seqs))
        stamps = [p.timestamp for p in media]
        assert all((b - a) % 2**32 == 960 for a, b in itertools.pairwise(stamps))
        assert len({p.ssrc for p in got}) == 1 and got[0].ssrc == transceiver.sender._ssrc
        stats = [s for s in (await transceiver.sender.getStats()).values()
                 if s.type == "outbound-rtp"]  # fmt: skip
        # aiortc's counters (its getStats) follow a few packets behind at most
        assert writer.packets == 41
        assert writer.packets - STATS_EVERY < stats[0].packetsSent <= writer.packets
        # the marker bit opens a talkspurt: the first packet, then after a silence only
        assert [p.marker for p in got] == [1] + [0] * (len(got) - 1)
        track.on_frame(EncodedFrame(b"\xf8\x01", 90 * 960, 0.0))  # after 1 s of nothing
        async with asyncio.timeout(10):
            await after_silence.wait()
        assert got[-1].marker == 1 and got[-1].timestamp - got[-2].timestamp == 51 * 960
    finally:
        track.stop()
        await sender_pc.close()
        await receiver_pc.close()
