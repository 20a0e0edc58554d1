"""Creating and answering aiortc peer connections the way a node needs them."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from typing import Any

import aiortc.rtcpeerconnection as _aiortc_pc
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcdtlstransport import RTCCertificate

from . import sdp
from .errors import OfferError
from .network import PortRange, port_range_scope

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MediaConfig:
    """How a node's peer connections are set up (the same for every call)."""

    ice_servers: tuple[RTCIceServer, ...] = ()
    ports: PortRange | None = None
    public_ip: str | None = None
    restore_fec: bool = True

    def new_peer(self) -> RTCPeerConnection:
        # An explicit (possibly empty) list: with none, aiortc adds a public STUN server.
        return shared_certificate_peer(RTCConfiguration(iceServers=list(self.ice_servers)))


RENEW_BEFORE = datetime.timedelta(days=1)


class SharedCertificate(RTCCertificate):
    """One DTLS key and certificate for every peer connection of the process, as
    browsers and SFUs do, with one OpenSSL context per SRTP profile list instead of
    one per connection (the DTLS fingerprint is per certificate, not per call)."""

    _current: SharedCertificate | None = None

    def __init__(self, key: Any, cert: Any) -> None:
        super().__init__(key, cert)
        self._contexts: dict[tuple[bytes, ...], Any] = {}

    @classmethod
    def get(cls) -> SharedCertificate:
        """The process's certificate; a new one a day before it expires (30 days)."""
        current = cls._current
        now = datetime.datetime.now(datetime.UTC)
        if current is None or current.expires - now < RENEW_BEFORE:
            current = cls._current = cls.generateCertificate()
        return current

    def _create_ssl_context(self, srtp_profiles: list[Any]) -> Any:
        key = tuple(p.openssl_profile for p in srtp_profiles)
        context = self._contexts.get(key)
        if context is None:
            context = self._contexts[key] = super()._create_ssl_context(srtp_profiles)
        return context


class _SharedFactory(RTCCertificate):
    @classmethod
    def generateCertificate(cls) -> Any:  # aiortc's name
        return SharedCertificate.get()


def shared_certificate_peer(configuration: RTCConfiguration) -> RTCPeerConnection:
    """A peer connection that uses the process's certificate instead of making its own
    (aiortc 1.16 makes one in ``__init__`` through its module's ``RTCCertificate``)."""
    original = getattr(_aiortc_pc, "RTCCertificate")  # noqa: B009 (not re-exported)
    setattr(_aiortc_pc, "RTCCertificate", _SharedFactory)  # noqa: B010
    try:
        return RTCPeerConnection(configuration)
    finally:
        setattr(_aiortc_pc, "RTCCertificate", original)  # noqa: B010


async def apply_offer(pc: RTCPeerConnection, offer: str) -> None:
    """Apply the caller's offer; OfferError when aiortc cannot parse or accept it.

    aiortc's SDP handling is not hardened against hostile input: it checks much of it
    with ``assert`` and fails on odd-but-parsable offers with AttributeError or
    RuntimeError (fuzzing found each), so any exception here is the offer's fault.
    """
    try:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
    except Exception as exc:
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


async def close_peer(pc: RTCPeerConnection) -> None:
    """Close ``pc``; a peer left half set up by a malformed offer can fail to close
    (aiortc raises AttributeError): logged, never raised to the closer."""
    try:
        await pc.close()
    except Exception as exc:
        log.warning("closing a peer connection failed: %s: %s", type(exc).__name__, exc)


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
