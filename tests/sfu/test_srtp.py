"""The in-place SRTP protector against libsrtp's public path and a receiving session."""

from __future__ import annotations

import os

import pytest
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket
from pylibsrtp import Policy, Session

from edgevoice.sfu.srtp import MTU, RtpProtector, SessionProtector, rtp_protector

PROFILE = Policy.SRTP_PROFILE_AES128_CM_SHA1_80


def _session(key: bytes, direction: int) -> Session:
    return Session(policy=Policy(key=key, ssrc_type=direction, srtp_profile=PROFILE))


EXTENSIONS = HeaderExtensionsMap()
EXTENSIONS.configure(
    RTCRtpParameters(
        headerExtensions=[
            RTCRtpHeaderExtensionParameters(id=1, uri="urn:ietf:params:rtp-hdrext:sdes:mid")
        ]
    )
)


def _header(ssrc: int = 0x1234ABCD, payload_type: int = 111) -> bytes:
    """A header like a sender's: with the one-byte ``mid`` extension (20 bytes)."""
    template = RtpPacket(payload_type=payload_type, ssrc=ssrc)
    template.extensions.mid = "0"
    return template.serialize(EXTENSIONS)


def test_in_place_protect_matches_the_public_path_and_decrypts() -> None:
    key = os.urandom(30)
    fast = RtpProtector(_session(key, Policy.SSRC_ANY_OUTBOUND), _header())
    slow = SessionProtector(_session(key, Policy.SSRC_ANY_OUTBOUND), _header())
    receiver = _session(key, Policy.SSRC_ANY_INBOUND)
    sequence = 65530  # across the 16-bit rollover
    for i in range(40):
        payload = os.urandom(20 + i * 7)  # lengths change: no bytes of a longer one survive
        marker = i % 9 == 0
        timestamp = (i * 960) & 0xFFFFFFFF
        protected = fast.protect(marker, sequence, timestamp, payload)
        assert protected == slow.protect(marker, sequence, timestamp, payload)
        assert payload not in protected  # encrypted
        packet = RtpPacket.parse(receiver.unprotect(protected), EXTENSIONS)
        assert packet.payload == payload
        assert (packet.marker, packet.sequence_number, packet.timestamp) == (
            int(marker),
            sequence,
            timestamp,
        )
        assert packet.payload_type == 111 and packet.ssrc == 0x1234ABCD
        assert packet.extensions.mid == "0"
        sequence = (sequence + 1) & 0xFFFF


def test_bad_input_is_refused_with_a_reason() -> None:
    session = _session(os.urandom(30), Policy.SSRC_ANY_OUTBOUND)
    with pytest.raises(ValueError, match="RTP version 2"):
        RtpProtector(session, b"\x00" * 12)
    protector = RtpProtector(session, _header())
    with pytest.raises(ValueError, match="does not fit"):
        protector.protect(False, 1, 960, b"\x00" * MTU)
    # the buffer is still good after a refusal: header, payload, 10-byte tag
    assert len(protector.protect(False, 2, 1920, b"ok")) == len(_header()) + 2 + 10


class _PublicOnly:
    """A session object with only the public ``protect`` (another pylibsrtp release)."""

    def __init__(self, session: Session) -> None:
        self.protect = session.protect


def test_falls_back_to_the_public_path_when_internals_differ() -> None:
    key = os.urandom(30)
    protector = rtp_protector(_PublicOnly(_session(key, Policy.SSRC_ANY_OUTBOUND)), _header())
    assert isinstance(protector, SessionProtector)
    receiver = _session(key, Policy.SSRC_ANY_INBOUND)
    packet = RtpPacket.parse(receiver.unprotect(protector.protect(True, 7, 960, b"opus")))
    assert (packet.marker, packet.sequence_number, packet.payload) == (1, 7, b"opus")
    native = rtp_protector(_session(key, Policy.SSRC_ANY_OUTBOUND), _header())
    assert isinstance(native, RtpProtector)
