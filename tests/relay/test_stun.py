"""The relay's pure parts: a binding request's USERNAME, and the answer a node rewrites."""

from __future__ import annotations

from aioice import stun
from hypothesis import given
from hypothesis import strategies as st

from edgevoice.relay.answer import advertise_relay, local_ice
from edgevoice.relay.stun import binding_username, is_stun, receiver_ufrag


def _binding(username: str | None, kind: int = stun.Method.BINDING) -> bytes:
    message = stun.Message(message_method=kind, message_class=stun.Class.REQUEST)
    if username is not None:
        message.attributes["USERNAME"] = username
    message.attributes["PRIORITY"] = 12345
    return bytes(message)


def test_a_binding_request_names_the_node_ufrag() -> None:
    data = _binding("nodeUfrag:callerUfrag")
    assert is_stun(data)
    assert binding_username(data) == "nodeUfrag:callerUfrag"
    assert receiver_ufrag(data) == "nodeUfrag"


def test_anything_else_names_nobody() -> None:
    assert receiver_ufrag(_binding(None)) is None  # no USERNAME
    assert receiver_ufrag(_binding("nocolon")) is None
    response = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.RESPONSE)
    assert receiver_ufrag(bytes(response)) is None
    assert receiver_ufrag(b"\x80\x6f" + bytes(30)) is None  # RTP
    assert receiver_ufrag(_binding("a:b")[:24]) is None  # truncated


@given(st.binary(max_size=200))
def test_random_datagrams_never_raise(data: bytes) -> None:
    receiver_ufrag(data)


@given(st.binary(min_size=0, max_size=120))
def test_mutated_requests_never_raise(tail: bytes) -> None:
    receiver_ufrag(_binding("x:y")[:20] + tail)


ANSWER = "\r\n".join([
    "v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0", "a=group:BUNDLE 0 1",
    "m=audio 40002 UDP/TLS/RTP/SAVPF 111", "c=IN IP4 127.0.0.1",
    "a=ice-ufrag:AbCd", "a=ice-pwd:0123456789abcdef012345",
    "a=candidate:1 1 udp 2130706431 10.0.0.5 40001 typ host",
    "a=candidate:2 1 udp 2130706431 127.0.0.1 40002 typ host",
    "a=end-of-candidates",
    "m=application 40002 DTLS/SCTP 5000", "c=IN IP4 127.0.0.1",
    "a=candidate:2 1 udp 2130706431 127.0.0.1 40002 typ host", "",
])  # fmt: skip


def test_local_ice_picks_the_media_address_candidate() -> None:
    ice = local_ice(ANSWER, "127.0.0.1")
    assert ice is not None and (ice.ufrag, ice.host, ice.port) == ("AbCd", "127.0.0.1", 40002)
    assert local_ice(ANSWER, "192.0.2.1") is None
    assert local_ice("v=0\r\n", None) is None


def test_the_answer_advertises_only_the_relay() -> None:
    out = advertise_relay(ANSWER, "203.0.113.7", 3478)
    candidates = [line for line in out.split("\r\n") if line.startswith("a=candidate")]
    assert candidates == ["a=candidate:relay 1 udp 2130706431 203.0.113.7 3478 typ host"]
    assert "c=IN IP4 127.0.0.1" not in out and out.count("c=IN IP4 203.0.113.7") == 2
    assert "m=audio 3478 " in out and "m=application 3478 " in out
    assert "a=ice-ufrag:AbCd" in out and "a=end-of-candidates" in out
