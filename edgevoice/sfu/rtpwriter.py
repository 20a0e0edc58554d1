"""RTP for encoded frames written straight to SRTP, past aiortc's per-sender loop.

aiortc sends each frame through a task per sender: ``track.recv()`` wakes it, the
codec's ``pack()`` converts the time base, an ``RtpPacket`` is built and serialised
with its header extensions, and three awaits later the datagram leaves. For a frame
fanned out to many subscribers that is a task switch and a dozen allocations per
subscriber. :class:`DirectRtpWriter` does the same job in one synchronous call from
``on_frame``: a header from a per-sender template, SRTP protect, ``sendto``.

It keeps what aiortc's RTCP needs: the sender's packet and octet counts and an
(NTP, RTP) timestamp pair for sender reports, and the DTLS transport's byte counts.
It relies on private names of aiortc 1.16 and aioice 0.13 (pinned in pyproject);
``tests/sfu/test_rtpwriter.py`` fails if it stops delivering.
"""

from __future__ import annotations

import os
import random
import struct
from typing import Any

from aiortc import RTCRtpTransceiver
from aiortc import clock as aiortc_clock
from aiortc.rtcdtlstransport import State
from aiortc.rtp import RtpPacket

from .frames import FRAME_SAMPLES_48K, EncodedFrame
from .network import LoopbackOnly, is_loopback

_SEQ_TS = struct.Struct("!HI")
_FRAME = FRAME_SAMPLES_48K
_SR_EVERY = 16  # refresh the sender-report timestamp pair every 16 packets (320 ms)


def direct_rtp_enabled() -> bool:
    """On unless ``EDGEVOICE_DIRECT_RTP=0`` (to compare against aiortc's own sender)."""
    return os.environ.get("EDGEVOICE_DIRECT_RTP", "1") != "0"


class DirectRtpWriter:
    """Sends frames on one transceiver's sender; ``write`` is False until it can."""

    def __init__(self, transceiver: RTCRtpTransceiver) -> None:
        self._transceiver = transceiver
        self._sender: Any = transceiver.sender
        self._ready = False
        self._closed = False
        self._head = b""
        self._head_marked = b""  # the same with the marker bit: first packet of a talkspurt
        self._last_pts: int | None = None
        self._tail = b""
        # resolved once the sender is up (the ICE pair never changes: no ICE restart)
        self._dtls: Any = None
        self._protect: Any = None
        self._sendto: Any = None
        self._addr: Any = None
        self._sender_private: dict[str, Any] = {}
        self._dtls_private: dict[str, Any] = {}
        self._seq = random.getrandbits(16)
        self._ts_origin = random.getrandbits(32)
        self.packets = 0
        self.bytes = 0

    @property
    def closed(self) -> bool:
        return self._closed

    def _prepare(self) -> bool:
        sender = self._sender
        private = sender.__dict__
        if not private.get("_RTCRtpSender__started") or not self._transceiver._codecs:
            return False
        dtls = sender.transport
        if dtls._state != State.CONNECTED or dtls._tx_srtp is None:
            return False
        payload_type = self._transceiver._codecs[0].payloadType
        if payload_type is None:
            return False
        pair = dtls.transport._connection._nominated.get(1)
        if pair is None or pair.protocol.transport is None:
            return False
        transport = pair.protocol.transport
        if isinstance(transport, LoopbackOnly):
            # the guard's check, made once for this pair instead of per packet
            if not is_loopback(pair.remote_addr[0]):
                self._closed = True
                return False
            transport = transport.inner
        template = RtpPacket(payload_type=payload_type, marker=0, ssrc=sender._ssrc)
        template.extensions.mid = private["_RTCRtpSender__mid"]
        header = template.serialize(private["_RTCRtpSender__rtp_header_extensions_map"])
        self._head, self._tail = header[:2], header[8:]
        self._head_marked = bytes((header[0], header[1] | 0x80))
        self._dtls = dtls
        self._protect = dtls._tx_srtp.protect
        self._sendto = transport.sendto
        self._addr = pair.remote_addr
        self._sender_private = private
        self._dtls_private = dtls.__dict__
        self._ready = True
        return True

    def write(self, frame: EncodedFrame) -> bool:
        """Send ``frame`` now; False when the sender has not started yet or has closed."""
        if self._closed or (not self._ready and not self._prepare()):
            return False
        state = self._dtls._state
        if state is not State.CONNECTED:
            self._closed = state in (State.CLOSED, State.FAILED)
            return False
        payload = frame.data
        timestamp = (self._ts_origin + frame.pts) & 0xFFFFFFFF
        # RFC 3551: the marker bit on the first packet after a silence (a pts jump)
        last, self._last_pts = self._last_pts, frame.pts
        head = self._head_marked if last is None or frame.pts - last > _FRAME else self._head
        data = self._protect(head + _SEQ_TS.pack(self._seq, timestamp) + self._tail + payload)
        self._sendto(data, self._addr)
        self._seq = (self._seq + 1) & 0xFFFF
        private = self._sender_private
        if self.packets % _SR_EVERY == 0:
            private["_RTCRtpSender__ntp_timestamp"] = aiortc_clock.current_ntp_time()
            private["_RTCRtpSender__rtp_timestamp"] = timestamp
        private["_RTCRtpSender__packet_count"] += 1
        private["_RTCRtpSender__octet_count"] += len(payload)
        transport_private = self._dtls_private
        transport_private["_RTCDtlsTransport__tx_packets"] += 1
        transport_private["_RTCDtlsTransport__tx_bytes"] += len(data)
        self.packets += 1
        self.bytes += len(payload)
        return True
