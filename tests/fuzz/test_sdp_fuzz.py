"""Property-based tests of the SDP parser and munging (sfu/sdp.py) and trickle fragments.

Whatever the text, each function returns or raises OfferError (a 400 for the client):
never another exception (a 500), and the munging keeps what it does not mean to change.
"""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from edgevoice.sfu import sdp
from edgevoice.sfu.call import Call
from edgevoice.sfu.errors import OfferError
from edgevoice.sfu.peer import MediaConfig

from .strategies import VALID_OFFER, mangled_line, mangled_offer, sdp_text

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(sdp_text)
@example(VALID_OFFER)
@example(VALID_OFFER.replace("a=fmtp:111 ", "a=fmtp:\u00b9\u00b9\u00b9 "))
def test_summarize_offer_returns_or_raises_offer_error(text: str) -> None:
    try:
        summary = sdp.summarize_offer(text)
    except OfferError:
        return
    assert summary.audio
    assert any(m.opus_payload_type is not None for m in summary.audio)


@FUZZ
@given(mangled_offer())
def test_restore_opus_fmtp_only_adds_fmtp_lines(answer: str) -> None:
    summary = sdp.summarize_offer(VALID_OFFER)
    answer = answer.replace("\n", "\r\n").replace("\r\r\n", "\r\n")
    out = sdp.restore_opus_fmtp(answer, summary)
    added = list(out.split("\r\n"))
    for line in answer.split("\r\n"):
        added.remove(line)
    assert all(line.startswith("a=fmtp:") for line in added)
    assert sdp.restore_opus_fmtp(out, summary) == out  # a second pass adds nothing


@FUZZ
@given(sdp_text, st.sampled_from(["203.0.113.7", "2001:db8::7"]))
def test_announce_address_keeps_the_line_count(text: str, public_ip: str) -> None:
    out = sdp.announce_address(text, public_ip)
    assert len(out.split("\r\n")) == len(text.split("\r\n"))


@FUZZ
@given(sdp_text)
@example("a=candidate:1 1 udp 1 127.0.0.1 \u00b2 typ host")
@example("a=candidate:1 1 udp 1 127.0.0.1 99999999999 typ host")
def test_keep_candidates_and_candidate_ports_never_raise(text: str) -> None:
    kept = sdp.keep_candidates(text, {"127.0.0.1"})
    assert set(kept.split("\r\n")) <= set(text.replace("\r\n", "\n").split("\n"))
    assert all(0 <= port <= 65535 for port in sdp.candidate_ports(text))


fragment_text = st.lists(
    st.one_of(
        mangled_line(),
        st.sampled_from(["a=ice-ufrag:x", "a=ice-pwd:y", "a=mid:0", "m=audio 9 RTP/AVP 0"]),
        st.text(max_size=40),
    ),
    max_size=8,
).map("\r\n".join)


@FUZZ
@given(fragment_text)
def test_sdpfrag_and_its_candidates_parse_or_raise_offer_error(text: str) -> None:
    try:
        fragment = sdp.parse_sdpfrag(text)
    except OfferError:
        return
    for _mid, line in fragment.candidates:
        try:
            candidate = sdp.parse_candidate(line)
        except OfferError:
            continue
        assert 0 <= candidate.port <= 65535


@pytest.mark.timeout(600)
@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(mangled_offer())
@example(VALID_OFFER.replace("a=mid:0\r\n", ""))  # applies, then aiortc fails to close it
@example(VALID_OFFER.replace("a=setup:actpass\r\na=mid:0", "a=mid:0"))  # AttributeError
@example(VALID_OFFER.replace("a=sctp-port:5000", "a=fmtp:111 x"))  # RuntimeError
@example(VALID_OFFER.replace("o=- 1 1 IN IP4 127.0.0.1", "c=IN 127.0.0.1"))  # assert
def test_a_call_answers_or_refuses_any_offer(text: str) -> None:
    """The whole answer path (aiortc's parser, the answer, closing): an answer or
    OfferError (a 400), never another exception (a 500)."""

    async def answer() -> None:
        call = Call("fuzz", MediaConfig())
        try:
            async with asyncio.timeout(20):
                assert "m=audio" in await call.answer_caller(text)
        except OfferError:
            pass
        finally:
            await call.close()

    asyncio.run(answer())
