"""The load generator's peers: WHIP callers and WHEP listeners that never encode.

A caller sends pre-encoded Opus through an :class:`EncodedTrack` written straight to
SRTP (the SFU's :class:`DirectRtpWriter`), so it spends no CPU encoding. What comes
back is counted at the socket (:func:`count_at_socket`): sequence numbers are read
from the SRTP header, which is not encrypted, and nothing is decrypted or decoded.
Only probe callers decrypt and decode the reply (a tapped receiver), to find their
markers in it. The load generator then costs a few microseconds a packet, so it can
drive hundreds of streams from one core.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from ..bridge.errors import CodecError
from ..bridge.opus import OpusDecoder
from ..sfu.frames import EncodedFrame
from ..sfu.rtpwriter import DirectRtpWriter
from ..sfu.sequence import SequenceTracker
from ..sfu.tap import RtpLike, tap_receiver
from ..sfu.track import EncodedTrack
from .audio import marker_delays

CONNECT_SECONDS = 20.0
_SEQ_TS_SSRC = struct.Struct("!HII")


def count_at_socket(pc: RTCPeerConnection, on_rtp: Callable[[int, int, int], None]) -> bool:
    """Hand ``(ssrc, sequence, timestamp)`` of each incoming RTP packet to ``on_rtp``.

    Hooks the connected ICE pair's datagram protocol: RTP never reaches aiortc (no
    SRTP unprotect, no parsing, no queue hop); STUN, DTLS and RTCP still do. The
    SRTP header is in clear, so the counts are exact. False if nothing is connected.
    """
    for transceiver in pc.getTransceivers():
        pair = transceiver.receiver.transport.transport._connection._nominated.get(1)
        if pair is not None:
            _hook(pair.protocol, on_rtp)
            return True
    return False


def _hook(protocol: Any, on_rtp: Callable[[int, int, int], None]) -> None:
    original = protocol.datagram_received

    def datagram_received(data: bytes, addr: Any) -> None:
        # RTP: version 2 (first byte 128-191); RTCP has packet types 192-223
        if len(data) >= 12 and 127 < data[0] < 192 and not 191 < data[1] < 224:
            seq, timestamp, ssrc = _SEQ_TS_SSRC.unpack_from(data, 2)
            on_rtp(ssrc, seq, timestamp)
        else:
            original(data, addr)

    protocol.datagram_received = datagram_received


@dataclass
class Inbound:
    """What one tapped receiver saw."""

    sequence: SequenceTracker = field(default_factory=SequenceTracker)
    packets: int = 0

    def on_packet(self, packet: RtpLike) -> None:
        self.on_rtp(packet.ssrc, packet.sequence_number, packet.timestamp)

    def on_rtp(self, ssrc: int, seq: int, timestamp: int) -> None:
        self.packets += 1
        self.sequence.accept(seq, timestamp)

    def counters(self) -> dict[str, int]:
        return {"packets": self.packets, "lost": self.sequence.lost, "late": self.sequence.late}


class ProbeEar:
    """Decodes what a probe caller hears and remembers when each frame arrived."""

    def __init__(self) -> None:
        self.decoder = OpusDecoder()
        self.chunks: list[bytes] = []
        self.arrivals: list[float] = []
        self.sent: list[float] = []
        self.last_heard = 0.0

    def on_packet(self, payload: bytes, arrival: float, missing: int) -> None:
        for _ in range(min(missing, 5)):  # conceal gaps so frame k stays samples k*480..
            self.chunks.append(self.decoder.decode(None))
            self.arrivals.append(arrival)
        try:
            self.chunks.append(self.decoder.decode(payload))
        except CodecError:
            self.chunks.append(self.decoder.decode(None))
        self.arrivals.append(arrival)

    def delays(self) -> list[float]:
        """Round trips of the markers heard since the last call (seconds)."""
        pcm = np.frombuffer(b"".join(self.chunks), np.int16)
        found = [
            (heard, rtt)
            for heard, rtt in marker_delays(self.sent, pcm, self.arrivals)
            if heard > self.last_heard + 0.1
        ]
        if found:
            self.last_heard = found[-1][0]
        keep = 10  # 200 ms: a marker cut at the end is found whole next time
        self.chunks, self.arrivals = self.chunks[-keep:], self.arrivals[-keep:]
        if self.arrivals:
            self.sent = [t for t in self.sent if t >= self.arrivals[0] - 1.0]
        return [rtt for _, rtt in found]


class BenchPeer:
    """Common parts: a loopback-only peer connection (no STUN) and its WHIP/WHEP exchange."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.connected = asyncio.Event()
        self.failed = False
        self.location: str | None = None
        self.token: str | None = None

        @self.pc.on("connectionstatechange")
        def _state() -> None:
            state = self.pc.connectionState
            if state == "connected":
                self.connected.set()
            elif state in ("failed", "closed"):
                self.failed = True

    async def _exchange(self, http: httpx.AsyncClient, url: str, token: str) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        response = await http.post(
            url,
            content=self.pc.localDescription.sdp,
            headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"},
        )
        if response.status_code != 201:
            raise RuntimeError(f"offer refused: {response.status_code} {response.text[:200]}")
        self.location = response.headers.get("location")
        self.token = token
        answer = RTCSessionDescription(sdp=response.text, type="answer")
        await self.pc.setRemoteDescription(answer)
        async with asyncio.timeout(CONNECT_SECONDS):
            await self.connected.wait()

    async def hang_up(self, http: httpx.AsyncClient) -> None:
        if self.location and self.token:
            try:
                await http.delete(self.location, headers={"Authorization": f"Bearer {self.token}"})
            except httpx.HTTPError:
                pass
        await self.pc.close()


class BenchCaller(BenchPeer):
    """A WHIP caller sending ``packets`` from ``offset`` on, one per tick."""

    def __init__(self, packets: list[bytes], offset: int, probe: bool) -> None:
        super().__init__()
        self.packets = packets
        self.index = offset
        self.pts = 0
        self.session_id: str | None = None
        self.track = EncodedTrack(max_queue=10, on_sent=self._sent)
        transceiver = self.pc.addTransceiver(self.track, direction="sendrecv")
        self.track.use_writer(DirectRtpWriter(transceiver))
        tap_receiver(transceiver.receiver, self._packet)
        # Like a real client, the caller opens an events channel (edgevoice sends stats
        # on it each second; FastRTC starts its handler only once one is open).
        self.channel = self.pc.createDataChannel("events")
        self.events = 0
        self.channel.on("message", self._event)
        self.inbound = Inbound()
        self.ear = ProbeEar() if probe else None
        self.sent = 0

    async def connect(
        self, http: httpx.AsyncClient, api_key: str, fields: dict[str, Any] | None = None
    ) -> None:
        """Create an echo session (``fields`` added: a region, client RTTs), then
        WHIP-connect to its node."""
        created = await http.post(
            "/v1/sessions",
            json={"model": "echo", **(fields or {})},
            headers={"Authorization": f"Bearer {api_key}"},
        )
        if created.status_code != 201:
            raise RuntimeError(f"session refused: {created.status_code} {created.text[:200]}")
        body: dict[str, Any] = created.json()
        self.session_id = body["id"]
        await self._exchange(http, body["whip_url"], body["client_secret"]["value"])
        if self.ear is None:
            count_at_socket(self.pc, self.inbound.on_rtp)

    def tick(self, now: float) -> None:
        """Hand the next packet to the sender (called by the worker's shared clock)."""
        data = self.packets[self.index % len(self.packets)]
        self.track.on_frame(EncodedFrame(data, self.pts, now))
        self.index += 1
        self.pts += 960

    def _event(self, message: object) -> None:
        self.events += 1

    def _sent(self, frame: EncodedFrame) -> None:
        self.sent += 1
        if self.ear is not None and frame.data is self.packets[0]:
            self.ear.sent.append(time.perf_counter())

    def _packet(self, packet: RtpLike, arrival: float) -> None:
        before = self.inbound.sequence.lost
        self.inbound.on_packet(packet)
        if self.ear is not None:
            self.ear.on_packet(packet.payload, arrival, self.inbound.sequence.lost - before)

    def counters(self) -> dict[str, int]:
        return {"sent": self.sent, **self.inbound.counters()}


class BenchListener(BenchPeer):
    """A WHEP listener with two receive-only sections (caller, agent); never decodes."""

    def __init__(self, sections: int = 2) -> None:
        super().__init__()
        self.sections = sections
        self.streams: dict[int, Inbound] = {}
        for _ in range(sections):
            self.pc.addTransceiver("audio", direction="recvonly")

    async def connect(self, http: httpx.AsyncClient, session_id: str, api_key: str) -> None:
        await self._exchange(http, f"/v1/sessions/{session_id}/whep", api_key)
        if not count_at_socket(self.pc, self._rtp):
            raise RuntimeError("connected, but no ICE pair to count packets on")

    def _rtp(self, ssrc: int, seq: int, timestamp: int) -> None:
        stream = self.streams.get(ssrc)
        if stream is None:
            stream = self.streams[ssrc] = Inbound()
        stream.on_rtp(ssrc, seq, timestamp)

    def counters(self) -> dict[str, int]:
        total = {"packets": 0, "lost": 0, "late": 0, "streams": len(self.streams)}
        for stream in self.streams.values():
            for key, value in stream.counters().items():
                total[key] += value
        return total
