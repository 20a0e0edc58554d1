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


async def make_answer(pc: RTCPeerConnection, config: MediaConfig, summary: sdp.OfferSummary) -> str:
    """Create, apply and return the answer (all candidates gathered, ports in range)."""
    answer = await pc.createAnswer()
    with port_range_scope(config.ports):
        await pc.setLocalDescription(answer)
    text = pc.localDescription.sdp
    if config.restore_fec:
        text = sdp.restore_opus_fmtp(text, summary)
    if config.public_ip:
        text = sdp.announce_address(text, config.public_ip)
    return text
