"""A receive-side tap on aiortc that hands each RTP packet over undecoded.

aiortc has no public API for encoded frames on the receive side: every packet goes
through a jitter buffer and a decoder thread. :func:`tap_receiver` swaps a
receiver's class for :class:`TappedReceiver`, which keeps what RTCP needs (the
per-source statistics behind receiver reports) and hands the packet to a callback
instead. It relies on private names of aiortc 1.16 (pinned in pyproject);
``tests/sfu/test_tap.py`` fails if the hook stops seeing packets.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aiortc import RTCRtpReceiver
from aiortc.codecs import is_rtx
from aiortc.rtcrtpparameters import RTCRtpReceiveParameters
from aiortc.rtcrtpreceiver import StreamStatistics
from aiortc.rtp import RtpPacket

from .errors import MediaError

PacketCallback = Callable[[RtpPacket, float], None]
"""Called with the packet and its arrival time (``time.perf_counter()``)."""


class TappedReceiver(RTCRtpReceiver):
    """An RTCRtpReceiver that forwards packets to ``_edge_callback`` and never decodes."""

    _edge_callback: PacketCallback | None

    async def receive(self, parameters: RTCRtpReceiveParameters) -> None:
        await super().receive(parameters)
        # aiortc starts a decoder thread here; nothing will ever be queued to it.
        self._RTCRtpReceiver__stop_decoder()  # type: ignore[attr-defined]

    async def _handle_rtp_packet(self, packet: RtpPacket, arrival_time_ms: int) -> None:
        arrival = time.perf_counter()
        private: dict[str, Any] = self.__dict__
        codec = private["_RTCRtpReceiver__codecs"].get(packet.payload_type)
        if codec is None or is_rtx(codec):
            return
        streams = private["_RTCRtpReceiver__remote_streams"]
        stats = streams.get(packet.ssrc)
        if stats is None:
            stats = streams[packet.ssrc] = StreamStatistics(codec.clockRate)
        stats.add(packet)
        callback = self._edge_callback
        if callback is not None:
            callback(packet, arrival)


def tap_receiver(receiver: RTCRtpReceiver, callback: PacketCallback) -> TappedReceiver:
    """Turn ``receiver`` into a tap; call before the peer connection starts receiving."""
    for name in ("_RTCRtpReceiver__codecs", "_RTCRtpReceiver__remote_streams"):
        if name not in receiver.__dict__:
            raise MediaError(f"aiortc receiver lacks {name}: the tap needs aiortc 1.16")
    receiver.__class__ = TappedReceiver
    tapped: TappedReceiver = receiver  # type: ignore[assignment]
    tapped._edge_callback = callback
    return tapped
