"""The receive tap relies on aiortc private names: this fails if the hook goes blind."""

from __future__ import annotations

import asyncio

from tests.conftest import Server
from tests.peers import Caller


async def test_tap_sees_every_packet_and_no_decoder_thread_runs(server: Server) -> None:
    caller = Caller("hello.wav")
    try:
        session = await server.connect(caller)
        async with asyncio.timeout(10):
            reply = await caller.track(0)
            await reply.wait_frames(25)
        call = server.node.sessions[session["id"]].call
        assert call.sequence.delivered >= 25
        receiver = call._pc.getTransceivers()[0].receiver  # type: ignore[union-attr]
        assert type(receiver).__name__ == "TappedReceiver"
        inbound = [s for s in (await receiver.getStats()).values() if s.type == "inbound-rtp"]
        assert inbound and inbound[0].packetsReceived >= call.sequence.delivered
        # aiortc started a decoder thread for the receiver; the tap stopped it
        assert receiver.__dict__["_RTCRtpReceiver__decoder_thread"] is None
        client_receiver = caller.pc.getTransceivers()[0].receiver
        assert client_receiver.__dict__["_RTCRtpReceiver__decoder_thread"] is not None
    finally:
        await caller.close()
