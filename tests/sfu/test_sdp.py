from __future__ import annotations

import pytest

from edgevoice.sfu import sdp
from edgevoice.sfu.errors import OfferError

OFFER = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
    "a=fingerprint:sha-256 AA:BB\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=sendrecv\r\n"
    "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host\r\n"
    "a=candidate:2 1 udp 2130706431 10.1.2.3 5001 typ host\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:1\r\n"
)


def test_summary_of_a_good_offer() -> None:
    summary = sdp.summarize_offer(OFFER)
    assert summary.has_data_channel
    assert summary.audio[0].opus_payload_type == 111
    assert summary.audio[0].fmtp[111] == "minptime=10;useinbandfec=1"
    assert summary.audio_sending() and summary.audio_receiving()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "v=0"),
        ("hello", "v=0"),
        ("v=0\r\ns=-\r\n", "no media"),
        (OFFER.replace("opus/48000/2", "G722/8000"), "opus"),
        (OFFER.replace("a=fingerprint:sha-256 AA:BB\r\n", ""), "fingerprint"),
        (OFFER.replace("m=audio", "m=video"), "no audio"),
        ("v=0\r\n" + "a=x\r\n" * 20000 + "m=audio\r\n", "larger"),
    ],
)
def test_bad_offers_are_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(OfferError, match=f"(?i){reason}"):
        sdp.summarize_offer(text)


def test_directions() -> None:
    recv_only = sdp.summarize_offer(OFFER.replace("a=sendrecv", "a=recvonly"))
    assert not recv_only.audio_sending()
    assert recv_only.audio_receiving()


def test_fec_parameters_are_put_back_into_the_answer() -> None:
    answer = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n"
    fixed = sdp.restore_opus_fmtp(answer, sdp.summarize_offer(OFFER))
    assert "a=fmtp:111 minptime=10;useinbandfec=1" in fixed
    assert fixed.index("a=rtpmap:111") < fixed.index("a=fmtp:111")
    # an offer without FEC gets no FEC line
    plain = sdp.summarize_offer(OFFER.replace("a=fmtp:111 minptime=10;useinbandfec=1\r\n", ""))
    assert "fmtp" not in sdp.restore_opus_fmtp(answer, plain)


def test_public_address_is_announced() -> None:
    answer = "c=IN IP4 127.0.0.1\r\na=candidate:1 1 udp 1 127.0.0.1 40000 typ host\r\n"
    out = sdp.announce_address(answer, "203.0.113.7")
    assert "c=IN IP4 203.0.113.7" in out
    assert "203.0.113.7 40000 typ host" in out
    assert "127.0.0.1" not in out


def test_keep_only_loopback_candidates() -> None:
    out = sdp.keep_candidates(OFFER, {"127.0.0.1"})
    assert "10.1.2.3" not in out
    assert sdp.candidate_ports(out) == [5000]


def test_sdpfrag_trickle_and_restart() -> None:
    current = sdp.IceCredentials("abcd", "secretpwd")
    bare = sdp.parse_sdpfrag("a=mid:0\r\na=candidate:1 1 udp 1 127.0.0.1 9 typ host\r\n")
    assert not sdp.is_ice_restart(sdp.IceCredentials(bare.ufrag, bare.pwd), current)
    assert bare.candidates == (("0", "candidate:1 1 udp 1 127.0.0.1 9 typ host"),)
    # RFC 8840 trickle as medooze's WHIPClient sends it: the current credentials again
    standard = sdp.parse_sdpfrag(
        "a=ice-ufrag:abcd\r\na=ice-pwd:secretpwd\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n"
        "a=mid:0\r\na=candidate:1 1 udp 1 127.0.0.1 9 typ host\r\n"
    )
    assert not sdp.is_ice_restart(sdp.IceCredentials(standard.ufrag, standard.pwd), current)
    assert standard.candidates == bare.candidates
    for ufrag, pwd in (("x", "y"), ("abcd", "other"), ("other", None)):
        assert sdp.is_ice_restart(sdp.IceCredentials(ufrag, pwd), current)
    with pytest.raises(OfferError):
        sdp.parse_sdpfrag("garbage line")


def test_ice_credentials_of_a_description() -> None:
    text = "v=0\r\nm=audio 9 x 0\r\na=ice-ufrag:u1\r\na=ice-pwd:p1\r\na=ice-ufrag:u2\r\n"
    assert sdp.ice_credentials(text) == sdp.IceCredentials("u1", "p1")
    assert sdp.ice_credentials("v=0\r\n") == sdp.IceCredentials()
