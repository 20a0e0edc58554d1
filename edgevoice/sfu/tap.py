"""A receive-side tap on aiortc that hands each RTP packet over undecoded.

aiortc has no public API for encoded frames on the receive side: every packet goes
through a jitter buffer and a decoder thread. :func:`tap_receiver` swaps a
receiver's class for :class:`TappedReceiver`, which keeps what RTCP needs (the
per-source statistics behind receiver reports) and hands the packet to a callback
instead. It relies on private names of aiortc 1.16 (pinned in pyproject);
``tests/sfu/test_tap.py`` fails if the hook stops seeing packets.

Once the first packet has come through aiortc (so the connection is up and the
stream's SSRC is known), the tap moves down to the socket (:func:`tap_socket`): the
ICE pair's datagram handler unprotects that SSRC's SRTP and parses the fixed header
itself, skipping aioice's STUN parse attempt, its queue, the DTLS transport's receive
task and aiortc's packet parsing and routing. Everything else (STUN, DTLS, RTCP,
other SSRCs) still takes aiortc's path. ``EDGEVOICE_SOCKET_TAP=0`` turns this off;
``tests/sfu/test_socket_tap.py`` fails if it stops delivering.
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import pylibsrtp
from aiortc import RTCRtpReceiver
from aiortc.codecs import is_rtx
from aiortc.rtcdtlstransport import State
from aiortc.rtcrtpparameters import RTCRtpReceiveParameters
from aiortc.rtcrtpreceiver import StreamStatistics
from aiortc.rtp import RtpPacket

from .errors import MediaError


class RtpLike(Protocol):
    """What the tap hands over: aiortc's ``RtpPacket`` or the socket path's own."""

    @property
    def payload_type(self) -> int: ...
    @property
    def sequence_number(self) -> int: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def ssrc(self) -> int: ...
    @property
    def payload(self) -> bytes: ...
    @property
    def marker(self) -> int: ...


PacketCallback = Callable[[RtpLike, float], None]
"""Called with the packet and its arrival time (``time.perf_counter()``)."""

_FIXED = struct.Struct("!BBHII")
_EXT_LENGTH = struct.Struct("!H")


@dataclass(slots=True, frozen=True)
class SlimRtp:
    payload_type: int
    sequence_number: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: int


def parse_rtp(data: bytes) -> SlimRtp | None:
    """The fields the SFU uses from a decrypted RTP packet (None if malformed)."""
    if len(data) < 12:
        return None
    first, second, seq, timestamp, ssrc = _FIXED.unpack_from(data)
    offset = 12 + 4 * (first & 0x0F)
    if first & 0x10:
        if len(data) < offset + 4:
            return None
        offset += 4 + 4 * _EXT_LENGTH.unpack_from(data, offset + 2)[0]
    end = len(data) - (data[-1] if first & 0x20 else 0)
    if offset > end:
        return None
    return SlimRtp(second & 0x7F, seq, timestamp, ssrc, data[offset:end], second >> 7)


def socket_tap_enabled() -> bool:
    return os.environ.get("EDGEVOICE_SOCKET_TAP", "1") != "0"


class TappedReceiver(RTCRtpReceiver):
    """An RTCRtpReceiver that forwards packets to ``_edge_callback`` and never decodes."""

    _edge_callback: PacketCallback | None
    _edge_socket: bool

    async def receive(self, parameters: RTCRtpReceiveParameters) -> None:
        await super().receive(parameters)
        # aiortc starts a decoder thread here; nothing will ever be queued to it.
        self._RTCRtpReceiver__stop_decoder()  # type: ignore[attr-defined]

    async def _handle_rtp_packet(self, packet: RtpPacket, arrival_time_ms: int) -> None:
        self._accept(packet, time.perf_counter())
        if not self._edge_socket and socket_tap_enabled():
            self._edge_socket = tap_socket(self, packet.ssrc)

    def _accept(self, packet: RtpLike, arrival: float) -> None:
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
    tapped._edge_socket = False
    return tapped


def tap_socket(receiver: TappedReceiver, ssrc: int) -> bool:
    """Take ``ssrc``'s RTP for ``receiver`` at the ICE pair's socket; False if not yet up."""
    dtls: Any = receiver.transport
    if dtls._state != State.CONNECTED or dtls._rx_srtp is None:
        return False
    pair = dtls.transport._connection._nominated.get(1)
    if pair is None:
        return False
    protocol = pair.protocol
    original = protocol.datagram_received
    unprotect = dtls._rx_srtp.unprotect
    accept = receiver._accept
    ssrc_bytes = ssrc.to_bytes(4, "big")

    def datagram_received(data: bytes, addr: Any) -> None:
        # this stream's RTP: version 2, not RTCP (types 192-223), its SSRC
        if (
            len(data) >= 12
            and 127 < data[0] < 192
            and not 191 < data[1] < 224
            and data[8:12] == ssrc_bytes
            and dtls._state is State.CONNECTED
        ):
            arrival = time.perf_counter()
            try:
                packet = parse_rtp(unprotect(data))
            except pylibsrtp.Error:  # replayed or forged: aiortc drops these too
                return
            if packet is not None:
                accept(packet, arrival)
            return
        original(data, addr)

    protocol.datagram_received = datagram_received
    return True
