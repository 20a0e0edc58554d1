"""Creating and answering aiortc peer connections the way a node needs them."""

from __future__ import annotations

from dataclasses import dataclass

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription

from . import sdp
from .errors import OfferError
from .network import PortRange, port_range_scope


@dataclass(frozen=True)
class MediaConfig:
    """How a node's peer connections are set up (the same for every call)."""

    ice_servers: tuple[RTCIceServer, ...] = ()
    ports: PortRange | None = None
    public_ip: str | None = None
    restore_fec: bool = True

    def new_peer(self) -> RTCPeerConnection:
        # An explicit (possibly empty) list: with none, aiortc adds a public STUN server.
        return RTCPeerConnection(RTCConfiguration(iceServers=list(self.ice_servers)))


async def apply_offer(pc: RTCPeerConnection, offer: str) -> None:
    try:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
    except (ValueError, KeyError, IndexError) as exc:
        raise OfferError(f"SDP offer could not be applied: {exc}", cause=exc) from exc


def prefer_dtls_server(pc: RTCPeerConnection) -> None:
    """Answer ``a=setup:passive`` when the offer leaves the choice (``actpass``).

    aiortc would answer ``active`` and act as DTLS client, offering only ECDSA cipher
    suites; a client whose DTLS server holds an RSA certificate (GStreamer's webrtcbin,
    used by the common WHIP clients) then finds no shared cipher. As DTLS server aiortc
    negotiates with both kinds. Uses aiortc's private ``_role`` (pinned version).
    """
    transports = [t.receiver.transport for t in pc.getTransceivers()]
    if pc.sctp is not None:
        transports.append(pc.sctp.transport)
    for transport in transports:
        if transport._role == "auto":
            transport._set_role("server")


async def make_answer(pc: RTCPeerConnection, config: MediaConfig, summary: sdp.OfferSummary) -> str:
    """Create, apply and return the answer (all candidates gathered, ports in range)."""
    prefer_dtls_server(pc)
    answer = await pc.createAnswer()
    with port_range_scope(config.ports):
        await pc.setLocalDescription(answer)
    text = pc.localDescription.sdp
    if config.restore_fec:
        text = sdp.restore_opus_fmtp(text, summary)
    if config.public_ip:
        text = sdp.announce_address(text, config.public_ip)
    return text
