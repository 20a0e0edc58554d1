"""RTP for encoded frames written straight to SRTP, past aiortc's per-sender loop.

aiortc sends each frame through a task per sender: ``track.recv()`` wakes it, the
codec's ``pack()`` converts the time base, an ``RtpPacket`` is built and serialised
with its header extensions, and three awaits later the datagram leaves. For a frame
fanned out to many subscribers that is a task switch and a dozen allocations per
subscriber. :class:`DirectRtpWriter` does the same job in one synchronous call from
``on_frame``: SRTP protect into a buffer that keeps the sender's header
(:mod:`.srtp`), ``sendto``.

It sends the sender's RTCP reports itself (:mod:`.senderreports`, from
:meth:`DirectRtpWriter.sender_info`) and keeps aiortc's sender and DTLS transport
counters (behind ``getStats()``) up to date every few packets.
It relies on private names of aiortc 1.16 and aioice 0.13 (pinned in pyproject);
``tests/sfu/test_rtpwriter.py`` fails if it stops delivering.
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

from aiortc import RTCRtpTransceiver
from aiortc.rtcdtlstransport import State
from aiortc.rtp import RtcpSenderInfo, RtpPacket

from .frames import FRAME_SAMPLES_48K, EncodedFrame
from .network import LoopbackOnly, is_loopback
from .senderreports import pace_sender_reports
from .srtp import Protector, rtp_protector

_FRAME = FRAME_SAMPLES_48K
STATS_EVERY = 16  # bring aiortc's getStats() counters up to date every 16 packets
NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900 (NTP) to 1970 (Unix)


def direct_rtp_enabled() -> bool:
    """On unless ``EDGEVOICE_DIRECT_RTP=0`` (to compare against aiortc's own sender)."""
    return os.environ.get("EDGEVOICE_DIRECT_RTP", "1") != "0"


class DirectRtpWriter:
    """Sends frames on one transceiver's sender; ``write`` is False until it can."""

    def __init__(self, transceiver: RTCRtpTransceiver) -> None:
        self._transceiver = transceiver
        self._sender: Any = transceiver.sender
        pace_sender_reports(transceiver.sender, self.sender_info)
        self._ready = False
        self._closed = False
        self._protector: Protector | None = None
        self._last_pts: int | None = None
        self._last_timestamp = 0  # RTP timestamp of the last packet sent ...
        self._last_sent = 0.0  # ... and when it left (time.time())
        # resolved once the sender is up (the ICE pair never changes: no ICE restart)
        self._dtls: Any = None
        self._sendto: Any = None
        self._addr: Any = None
        self._sender_private: dict[str, Any] = {}
        self._dtls_private: dict[str, Any] = {}
        self._seq = random.getrandbits(16)
        self._ts_origin = random.getrandbits(32)
        self.packets = 0
        self.bytes = 0
        self._wire_bytes = 0
        self._synced_packets = self._synced_bytes = self._synced_wire = 0

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
        self._protector = rtp_protector(dtls._tx_srtp, header)
        self._dtls = dtls
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
        marker = last is None or frame.pts - last > _FRAME
        data = self._protector.protect(marker, self._seq, timestamp, payload)  # type: ignore[union-attr]
        self._sendto(data, self._addr)
        self._last_sent = time.time()
        self._last_timestamp = timestamp
        self._seq = (self._seq + 1) & 0xFFFF
        self.packets += 1
        self.bytes += len(payload)
        self._wire_bytes += len(data)
        if self.packets % STATS_EVERY == 1:
            self._sync()
        return True

    def sender_info(self) -> RtcpSenderInfo:
        """What a sender report says now: the last packet's time pair and the counts."""
        ntp = int((self._last_sent + NTP_EPOCH_OFFSET) * 2**32) if self.packets else 0
        return RtcpSenderInfo(
            ntp_timestamp=ntp & 0xFFFFFFFFFFFFFFFF,
            rtp_timestamp=self._last_timestamp,
            packet_count=self.packets & 0xFFFFFFFF,
            octet_count=self.bytes & 0xFFFFFFFF,
        )

    def _sync(self) -> None:
        """Bring aiortc's counters (its ``getStats()``) up to date, every few packets."""
        private = self._sender_private
        private["_RTCRtpSender__packet_count"] += self.packets - self._synced_packets
        private["_RTCRtpSender__octet_count"] += self.bytes - self._synced_bytes
        transport_private = self._dtls_private
        transport_private["_RTCDtlsTransport__tx_packets"] += self.packets - self._synced_packets
        transport_private["_RTCDtlsTransport__tx_bytes"] += self._wire_bytes - self._synced_wire
        self._synced_packets, self._synced_bytes = self.packets, self.bytes
        self._synced_wire = self._wire_bytes
