"""The socket-level tap relies on aiortc/aioice private names: this fails if it goes blind.

After the first packet through aiortc, the caller's RTP is taken at the ICE pair's
socket; the call must keep receiving every packet, with aiortc's receive statistics
(behind receiver reports) still counting them, and the echo must keep flowing.
"""

from __future__ import annotations

import asyncio

from edgevoice.sfu.tap import parse_rtp
from tests.conftest import Server
from tests.peers import Caller


def test_parse_rtp_reads_header_extension_and_padding() -> None:
    header = bytes([0xB0, 0xEF, 0x12, 0x34, 0, 0, 3, 0xC0, 1, 2, 3, 4])  # ext + padding
    extension = bytes([0xBE, 0xDE, 0, 1, 0x10, 0xAA, 0, 0])
    packet = parse_rtp(header + extension + b"opus" + bytes([0, 2]))
    assert packet is not None
    assert (packet.payload_type, packet.sequence_number) == (111, 0x1234)
    assert (packet.timestamp, packet.ssrc, packet.payload) == (960, 0x01020304, b"opus")
    assert parse_rtp(b"\x80\x6f") is None


async def test_socket_tap_takes_over_and_keeps_counting(server: Server) -> None:
    caller = Caller("hello.wav")
    try:
        session = await server.connect(caller)
        async with asyncio.timeout(10):
            reply = await caller.track(0)
            await reply.wait_frames(25)
        call = server.node.sessions[session["id"]].call
        receiver = call._pc.getTransceivers()[0].receiver  # type: ignore[union-attr]
        assert receiver._edge_socket is True
        pair = receiver.transport.transport._connection._nominated[1]
        assert pair.protocol.datagram_received.__name__ == "datagram_received"
        assert pair.protocol.datagram_received.__qualname__.startswith("tap_socket")
        before = call.sequence.delivered
        async with asyncio.timeout(10):
            await reply.wait_frames(reply.frames + 25)
        assert call.sequence.delivered >= before + 20
        assert call.sequence.lost == 0 and call.sequence.late == 0
        inbound = [s for s in (await receiver.getStats()).values() if s.type == "inbound-rtp"]
        assert inbound[0].packetsReceived >= call.sequence.delivered
    finally:
        await caller.close()
